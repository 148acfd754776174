#include "fluxion/io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "fluxion/core/error.h"

namespace fx::io {

namespace {

std::string os_reason(int err) { return std::strerror(err); }

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

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

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// The file a write to `path` must replace: `path` itself, or the end of its symlink chain
// (which may not exist yet). Renaming over the link itself would turn the user's link into a
// plain file. Fills *mode with the existing file's permissions, or 0 if there is none.
std::string write_target(const std::string& path, mode_t* mode) {
  std::string p = path;
  for (int hops = 0;; ++hops) {
    struct stat st {};
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENOENT) return *mode = 0, p;
      fail("cannot write '{}': {}", path, os_reason(errno));
    }
    if (S_ISREG(st.st_mode)) return *mode = st.st_mode & 07777, p;
    if (!S_ISLNK(st.st_mode))
      fail("cannot write '{}': {} exists and is {}; refusing to replace it with a file", path,
           p == path ? "it" : "'" + p + "'", kind_of(st.st_mode));
    if (hops == 40) fail("cannot write '{}': too many levels of symbolic links", path);
    std::string link(4096, '\0');
    ssize_t n = ::readlink(p.c_str(), link.data(), link.size());
    if (n < 0) fail("cannot write '{}': reading symlink '{}': {}", path, p, os_reason(errno));
    link.resize((size_t)n);
    p = link.starts_with('/') ? link : parent_dir(p) + "/" + link;
  }
}

}  // namespace

void write_file_atomic(const std::string& user_path, std::string_view bytes) {
  FX_CHECK(!user_path.empty(), "cannot write a file with an empty path");
  mode_t old_mode = 0;
  const std::string path = write_target(user_path, &old_mode);
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
    fail("cannot read '{}': it is {}", path, kind_of(st.st_mode));
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
