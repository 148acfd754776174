// Whole-file reads and crash-safe writes. A write goes to "<path>.tmp-<pid>", is fsync'ed,
// then renamed over <path> (and the directory fsync'ed): after a crash or a full disk the
// user has either the old file or the new one, never half of either.
#pragma once
#include <string>
#include <string_view>

namespace fx::io {

// Throws fx::Error naming the path and the OS reason (e.g. a missing directory).
void write_file_atomic(const std::string& path, std::string_view bytes);

// The whole file as bytes. Throws fx::Error naming the path (missing, a directory, unreadable).
std::string read_file(const std::string& path);

}  // namespace fx::io
