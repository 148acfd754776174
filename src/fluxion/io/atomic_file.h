// Whole-file reads and crash-safe writes. A write goes to "<path>.tmp-<pid>", is fsync'ed,
// then renamed over <path> (and the directory fsync'ed): after a crash or a full disk the
// user has either the old file or the new one, never half of either.
#pragma once
#include <string>
#include <string_view>

namespace fx::io {

// A symlink is written through: its final target is replaced atomically (created if missing)
// and the link stays. An existing target that is not a regular file (directory, device, FIFO,
// socket) is refused, never replaced. Throws fx::Error naming the path and the OS reason.
void write_file_atomic(const std::string& path, std::string_view bytes);

// The whole file as bytes. Throws fx::Error naming the path (missing, a directory, a device,
// unreadable).
std::string read_file(const std::string& path);

}  // namespace fx::io
