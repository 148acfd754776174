#include "fluxion/io/write_target.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fluxion/core/error.h"

namespace fx::io {

namespace {

std::string os_reason(int err) { return std::strerror(err); }

}  // namespace

std::string parent_dir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string resolve_write_target(const std::string& path, mode_t* mode) {
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
           p == path ? "it" : "'" + p + "'", file_kind(st.st_mode));
    if (hops == 40) fail("cannot write '{}': too many levels of symbolic links", path);
    std::string link(4096, '\0');
    ssize_t n = ::readlink(p.c_str(), link.data(), link.size());
    if (n < 0) fail("cannot write '{}': reading symlink '{}': {}", path, p, os_reason(errno));
    link.resize((size_t)n);
    p = link.starts_with('/') ? link : parent_dir(p) + "/" + link;
  }
}

void check_write_target(const std::string& path) {
  FX_CHECK(!path.empty(), "cannot write a file with an empty path");
  mode_t mode = 0;
  resolve_write_target(path, &mode);
}

}  // namespace fx::io
