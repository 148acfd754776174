// Atomic writes: content lands, the temp file is gone, an old file survives a failed write,
// and errors name the path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"

namespace {

namespace fs = std::filesystem;
using fx::io::read_file;
using fx::io::write_file_atomic;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/fluxion-atomic-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() {
    ::chmod(path.c_str(), 0755);
    fs::remove_all(path);
  }
};

TEST(AtomicFile, WritesReplacesAndLeavesNoTempFile) {
  TempDir d;
  std::string p = d.path + "/f.bin";
  write_file_atomic(p, std::string("a\0b", 3));
  EXPECT_EQ(read_file(p), std::string("a\0b", 3));
  write_file_atomic(p, "second");
  EXPECT_EQ(read_file(p), "second");
  write_file_atomic(p, "");
  EXPECT_EQ(read_file(p), "");
  int entries = 0;
  for (auto& e : fs::directory_iterator(d.path)) ++entries, (void)e;
  EXPECT_EQ(entries, 1);
}

TEST(AtomicFile, FailedWriteKeepsTheOldFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  TempDir d;
  std::string p = d.path + "/keep.txt";
  write_file_atomic(p, "precious");
  ::chmod(d.path.c_str(), 0555);  // no new files: the temp file cannot be created
  EXPECT_THROW(write_file_atomic(p, "new"), fx::Error);
  EXPECT_EQ(read_file(p), "precious");
}

TEST(AtomicFile, RenameOverADirectoryFailsCleanly) {
  TempDir d;
  fs::create_directory(d.path + "/dir");
  try {
    write_file_atomic(d.path + "/dir", "x");
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/dir'"), std::string::npos) << e.what();
  }
  int entries = 0;
  for (auto& e : fs::directory_iterator(d.path)) ++entries, (void)e;
  EXPECT_EQ(entries, 1);  // the temp file was removed
}

TEST(AtomicFile, ErrorsNameThePath) {
  TempDir d;
  try {
    write_file_atomic(d.path + "/no/such/dir/f.txt", "x");
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("no/such/dir/f.txt"), std::string::npos) << m;
    EXPECT_NE(m.find("No such file or directory"), std::string::npos) << m;
  }
  EXPECT_THROW(read_file(d.path + "/missing"), fx::Error);
  try {
    read_file(d.path);
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

}  // namespace
