// Atomic writes: content lands, the temp file is gone, an old file survives a failed write,
// and errors name the path.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/write_target.h"

namespace {

namespace fs = std::filesystem;
using fx::io::read_file;
using fx::io::write_file_atomic;

struct AtomicTempDir {
  std::string path;
  AtomicTempDir() {
    char tmpl[] = "/tmp/fluxion-atomic-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~AtomicTempDir() {
    ::chmod(path.c_str(), 0755);
    fs::remove_all(path);
  }
};

TEST(AtomicFile, WritesReplacesAndLeavesNoTempFile) {
  AtomicTempDir d;
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
  AtomicTempDir d;
  std::string p = d.path + "/keep.txt";
  write_file_atomic(p, "precious");
  ::chmod(d.path.c_str(), 0555);  // no new files: the temp file cannot be created
  EXPECT_THROW(write_file_atomic(p, "new"), fx::Error);
  EXPECT_EQ(read_file(p), "precious");
}

TEST(AtomicFile, RenameOverADirectoryFailsCleanly) {
  AtomicTempDir d;
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

int count_entries(const std::string& dir) {
  int n = 0;
  for (auto& e : fs::directory_iterator(dir)) ++n, (void)e;
  return n;
}

TEST(AtomicFile, WritesThroughSymlinksAndKeepsThem) {
  AtomicTempDir d;
  fs::create_directory(d.path + "/real");
  write_file_atomic(d.path + "/real/target.png", "old");
  ::chmod((d.path + "/real/target.png").c_str(), 0600);
  // A relative link to a relative link: both stay links, the final target gets the bytes.
  fs::create_symlink("real/target.png", d.path + "/link1");
  fs::create_symlink("link1", d.path + "/link2");
  write_file_atomic(d.path + "/link2", "new");
  EXPECT_TRUE(fs::is_symlink(d.path + "/link1"));
  EXPECT_TRUE(fs::is_symlink(d.path + "/link2"));
  EXPECT_EQ(read_file(d.path + "/real/target.png"), "new");
  EXPECT_EQ(fs::status(d.path + "/real/target.png").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);  // replaced, permissions kept
  EXPECT_EQ(count_entries(d.path + "/real"), 1);  // the temp file sat next to the target
  // A dangling link creates its target.
  fs::create_symlink(d.path + "/real/later.bin", d.path + "/dangling");
  write_file_atomic(d.path + "/dangling", "made");
  EXPECT_TRUE(fs::is_symlink(d.path + "/dangling"));
  EXPECT_EQ(read_file(d.path + "/real/later.bin"), "made");
  // A loop is an error, not a hang.
  fs::create_symlink("loop_b", d.path + "/loop_a");
  fs::create_symlink("loop_a", d.path + "/loop_b");
  EXPECT_THROW(write_file_atomic(d.path + "/loop_a", "x"), fx::Error);
}

TEST(AtomicFile, RefusesToReplaceDevicesFifosAndDirectories) {
  AtomicTempDir d;
  auto error_of = [](const std::string& p) {
    try {
      write_file_atomic(p, "x");
    } catch (const fx::Error& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(error_of("/dev/null"),
            "cannot write '/dev/null': it exists and is a character device; refusing to replace "
            "it with a file");
  fs::create_symlink("/dev/null", d.path + "/to_null");
  EXPECT_EQ(error_of(d.path + "/to_null"),
            "cannot write '" + d.path +
                "/to_null': '/dev/null' exists and is a character device; refusing to replace it "
                "with a file");
  EXPECT_TRUE(fs::is_symlink(d.path + "/to_null"));
  ASSERT_EQ(::mkfifo((d.path + "/fifo").c_str(), 0644), 0);
  EXPECT_NE(error_of(d.path + "/fifo").find("fifo': it exists and is a FIFO"), std::string::npos);
  EXPECT_TRUE(fs::is_fifo(d.path + "/fifo"));
  EXPECT_EQ(count_entries(d.path), 2);  // no temp files left
  EXPECT_THROW(fx::io::check_write_target("/dev/null"), fx::Error);
  EXPECT_THROW(fx::io::check_write_target(d.path + "/fifo"), fx::Error);
  EXPECT_NO_THROW(fx::io::check_write_target(d.path + "/new.png"));
  EXPECT_EQ(count_entries(d.path), 2);  // checking writes nothing
  // Reading a device would never end (/dev/zero) or means nothing.
  try {
    read_file("/dev/zero");
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot read '/dev/zero': it is a character device");
  }
}

TEST(AtomicFile, ErrorsNameThePath) {
  AtomicTempDir d;
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
