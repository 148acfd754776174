// Where a write to a user's output path must land. A symlink is followed to the end of its
// chain (renaming over the link would turn it into a plain file); an existing directory,
// device, FIFO or socket is refused, never replaced (--out /dev/... once replaced the node).
#pragma once
#include <sys/types.h>

#include <string>

namespace fx::io {

// The file to replace: `path` itself, or its symlink chain's final target (which may not
// exist yet). Sets *mode to the existing file's permission bits, or 0 if it does not exist.
// Throws fx::Error naming `path` for a non-regular target, a symlink loop or an OS error.
std::string resolve_write_target(const std::string& path, mode_t* mode);

// The same checks, for validating an output path before a long computation.
void check_write_target(const std::string& path);

// The folder holding `path` ("." for a bare name, "/" for a file at the root): where a
// temporary file must go for the rename to be atomic.
std::string parent_dir(const std::string& path);
// "a directory", "a character device", ... for messages.
const char* file_kind(mode_t mode);

}  // namespace fx::io
