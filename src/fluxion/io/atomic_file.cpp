#include "fluxion/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/io/write_target.h"

namespace fx::io {

namespace {

std::string os_reason(int err) { return std::strerror(err); }

// Writes everything, retrying short writes and EINTR. Returns 0 or an errno value.
int write_all(int fd, std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += (size_t)w;
  }
  return 0;
}

}  // namespace

void write_file_atomic(const std::string& user_path, std::string_view bytes) {
  FX_CHECK(!user_path.empty(), "cannot write a file with an empty path");
  mode_t old_mode = 0;
  const std::string path = resolve_write_target(user_path, &old_mode);
  // Next to the target, so the rename stays on one file system.
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a leftover from a crashed process with our pid
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write '{}': {}", user_path, os_reason(errno));
  if (old_mode != 0) ::fchmod(fd, old_mode);  // a replaced file keeps its permissions
  int err = write_all(fd, bytes);
  // Data must be on disk before the rename makes it visible under the user's name.
  if (err == 0 && ::fsync(fd) != 0) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail("cannot write '{}': {}", user_path, os_reason(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(tmp.c_str());
    fail("cannot write '{}' (rename from '{}' failed): {}", user_path, tmp, os_reason(err));
  }
  // Persist the rename itself; best effort (some file systems refuse fsync on directories).
  int dfd = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot open '{}': {}", path, os_reason(errno));
  struct stat st {};
  // A directory has no bytes; a device such as /dev/zero would be read until memory runs out.
  if (::fstat(fd, &st) == 0 &&
      (S_ISDIR(st.st_mode) || S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    ::close(fd);
    fail("cannot read '{}': it is {}", path, file_kind(st.st_mode));
  }
  std::string out;
  if (st.st_size > 0) out.reserve((size_t)st.st_size);
  char buf[1 << 16];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      fail("cannot read '{}': {}", path, os_reason(err));
    }
    if (r == 0) break;
    out.append(buf, (size_t)r);
  }
  ::close(fd);
  return out;
}

}  // namespace fx::io
