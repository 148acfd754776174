// Loading users' point files: CSV and NPY, and a clear error for every kind of bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/data/points_file.h"

namespace {

using fx::Tensor;
using fx::data::load_points;
using fx::data::parse_csv_points;

struct PointsTempDir {
  std::string path;
  PointsTempDir() {
    char tmpl[] = "/tmp/fluxion-points-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~PointsTempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

// A .npy file as numpy.save writes it (version 1.0 unless told).
std::string npy(const std::string& descr, const std::string& shape, const std::string& data,
                bool fortran = false, int major = 1) {
  std::string dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
                     ", 'shape': " + shape + ", }";
  size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + dict.size() + 1) % 64 != 0) dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += (char)major;
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) out += (char)((dict.size() >> (8 * i)) & 0xff);
  return out + dict + data;
}

template <typename T>
std::string raw(std::initializer_list<T> v) {
  return std::string((const char*)std::data(v), v.size() * sizeof(T));
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(PointsCsv, HeaderWhitespaceCommentsAndCrlf) {
  Tensor t = parse_csv_points("\xEF\xBB\xBFx, y ,z\r\n# a comment\r\n 1, 2.5 ,-3\r\n\r\n4e1,+5,6\n",
                              "p.csv");
  EXPECT_EQ(t.dtype(), fx::DType::f32);
  EXPECT_EQ(t.shape(), (fx::Shape{2, 3}));
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 2.5, -3, 40, 5, 6}));
  EXPECT_EQ(parse_csv_points("7\n8\n", "one.csv").shape(), (fx::Shape{2, 1}));
}

TEST(PointsCsv, ErrorsNameFileLineColumnAndValue) {
  auto e = error_of([] { parse_csv_points("x,y\n1,2\n3,4,5\n", "a.csv"); });
  EXPECT_HAS(e, "a.csv: line 3 has 3 columns, expected 2 (ragged rows)");
  e = error_of([] { parse_csv_points("1,2\n3,abc\n", "b.csv"); });
  EXPECT_HAS(e, "b.csv: line 2, column 2: 'abc' is not a number");
  e = error_of([] { parse_csv_points("1,2\n3,\n", "c.csv"); });
  EXPECT_HAS(e, "line 2, column 2: an empty cell");
  e = error_of([] { parse_csv_points("1,2\n3,nan\n", "d.csv"); });
  EXPECT_HAS(e, "d.csv: line 2, column 2: value nan is not finite");
  e = error_of([] { parse_csv_points("1,-inf\n", "e.csv"); });
  EXPECT_HAS(e, "not finite");
  e = error_of([] { parse_csv_points("1,1e39\n", "f.csv"); });
  EXPECT_HAS(e, "beyond the f32 range");
  e = error_of([] { parse_csv_points("", "g.csv"); });
  EXPECT_HAS(e, "g.csv: empty file");
  e = error_of([] { parse_csv_points("x,y\n\n", "h.csv"); });
  EXPECT_HAS(e, "h.csv: no data rows, only a header of 2 columns (line 1)");
  e = error_of([] { parse_csv_points("1,2\nx,y\n", "i.csv"); });  // a header only comes first
  EXPECT_HAS(e, "line 2, column 1: 'x' is not a number");
}

TEST(PointsCsv, HugeCellsAndRowsAreRefusedByName) {
  // One 2 MB cell once read as a one-column header: "no data rows, only a header".
  const std::string cell(2'000'000, 'x');
  auto e = error_of([&] { parse_csv_points(cell + "\n", "big.csv"); });
  EXPECT_HAS(e, "big.csv: line 1, column 1: cell of 2000000 characters 'xxxx");
  EXPECT_HAS(e, "is too long; the limit is 1024");
  e = error_of([&] { parse_csv_points("1,2\n3," + std::string(5000, '7') + "\n", "n.csv"); });
  EXPECT_HAS(e, "n.csv: line 2, column 2: cell of 5000 characters");
  // A 5,000,000-column line ended in std::bad_alloc; 70,000 columns show the same limit.
  std::string wide = "1";
  for (int i = 1; i < 70000; ++i) wide += ",1";
  e = error_of([&] { parse_csv_points("# points\n" + wide + "\n", "wide.csv"); });
  EXPECT_HAS(e, "wide.csv: line 2 has 70000 columns; the limit is 65536");
  EXPECT_EQ(parse_csv_points(std::string(1024, 'x') + "\n5\n", "ok.csv").shape(),
            (fx::Shape{1, 1}));  // a 1024-character column name is still fine
  EXPECT_EQ(parse_csv_points("0." + std::string(1000, '0') + "1\n", "ok.csv").shape(),
            (fx::Shape{1, 1}));  // and so is a long number
}

TEST(PointsNpy, ShapesThatOverflowAreRefusedBeforeAllocating) {
  // Each header claims an array whose byte size wraps in 64 bits; the file holds no data. The
  // first two crashed with SIGSEGV (issue #17, bug 1), the third said "out of memory".
  PointsTempDir dir;
  for (const char* shape : {"(4611686018427387904, 4)", "(6148914691236517206, 3)",
                            "(17179869184, 1073741824)", "(4611686018427387904,)"}) {
    auto e = error_of([&] { load_points(dir.write("o.npy", npy("<f4", shape, ""))); });
    EXPECT_HAS(e, "o.npy: NPY shape [");
    EXPECT_HAS(e, "is too large: its byte size overflows 64 bits (the file has 0 data bytes)");
  }
  // Fits in 64 bits but not in the file: the length check answers before any allocation.
  auto e = error_of([&] { load_points(dir.write("t.npy", npy("<f8", "(1099511627776, 2)", ""))); });
  EXPECT_HAS(e, "t.npy: NPY data truncated: shape [1099511627776, 2] needs 17592186044416 bytes");
}

TEST(PointsNpy, AllDtypesAndVersions) {
  PointsTempDir dir;
  auto f4 = dir.write("a.npy", npy("<f4", "(2, 2)", raw<float>({1, 2, 3, 4})));
  EXPECT_EQ(load_points(f4).to_vector(), (std::vector<double>{1, 2, 3, 4}));
  auto f8 = dir.write("b.NPY", npy("<f8", "(3,)", raw<double>({0.5, -1, 2}), false, 2));
  Tensor b = load_points(f8);
  EXPECT_EQ(b.shape(), (fx::Shape{3, 1}));
  EXPECT_EQ(b.to_vector(), (std::vector<double>{0.5, -1, 2}));
  auto i4 = dir.write("c.npy", npy("<i4", "(1, 3)", raw<int32_t>({-7, 0, 9})));
  EXPECT_EQ(load_points(i4).to_vector(), (std::vector<double>{-7, 0, 9}));
  auto i8 = dir.write("d.dat", npy("<i8", "(2, 1)", raw<int64_t>({5, 6})));  // sniffed by magic
  EXPECT_EQ(load_points(i8).to_vector(), (std::vector<double>{5, 6}));
  auto csv = dir.write("e.txt", "1,2\n");  // no extension, no magic: CSV
  EXPECT_EQ(load_points(csv).shape(), (fx::Shape{1, 2}));
}

TEST(PointsNpy, MadeByNumpyIfAvailable) {
  PointsTempDir dir;
  std::string out = dir.path + "/np.npy";
  std::string cmd = "/usr/bin/python3 -c \"import numpy as np; np.save('" + out +
                    "', np.arange(6, dtype='<f8').reshape(3, 2) / 4)\" 2>/dev/null";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "numpy not available";
  EXPECT_EQ(load_points(out).to_vector(), (std::vector<double>{0, 0.25, 0.5, 0.75, 1, 1.25}));
}

TEST(PointsNpy, Errors) {
  PointsTempDir dir;
  auto load = [&](const std::string& bytes) {
    return error_of([&] { load_points(dir.write("x.npy", bytes)); });
  };
  EXPECT_HAS(load("PK\x03\x04 not numpy"), "bad magic");
  EXPECT_HAS(load(npy(">f4", "(1, 1)", raw<float>({1}))), "big-endian");
  EXPECT_HAS(load(npy("<f2", "(1, 1)", std::string(2, '\0'))), "unsupported NPY dtype '<f2'");
  EXPECT_HAS(load(npy("<f4", "(1, 2)", raw<float>({1, 2}), true)), "Fortran order");
  EXPECT_HAS(load(npy("<f4", "(2, 2)", raw<float>({1, 2, 3}))), "truncated");
  EXPECT_HAS(load(npy("<f4", "(1, 1)", raw<float>({1, 2}))), "unexpected bytes");
  EXPECT_HAS(load(npy("<f4", "(1, 1, 1)", raw<float>({1}))), "expected [N, D]");
  EXPECT_HAS(load(npy("<f4", "(0, 2)", "")), "holds no points");
  EXPECT_HAS(load(npy("<f4", "(2, 1)", raw<float>({1, NAN}))), "row 1, column 0: value nan");
  EXPECT_HAS(load(npy("<f8", "(1, 1)", raw<double>({1e300}))), "beyond the f32 range");
  std::string bad_dict = npy("<f4", "(1, 1)", raw<float>({1}));
  bad_dict.replace(bad_dict.find("'shape'"), 7, "'shapf'");
  EXPECT_HAS(load(bad_dict), "bad NPY header");
  EXPECT_HAS(load(npy("<f4", "(1, 1)", raw<float>({1})).substr(0, 20)), "runs past the end");
  EXPECT_HAS(load(std::string("\x93NUMPY\x07\x00\x00\x00", 10)), "version 7.0");
  EXPECT_HAS(error_of([&] { load_points(dir.path + "/missing.csv"); }),
             "missing.csv': No such file");
  EXPECT_HAS(error_of([&] { load_points(dir.write("empty.csv", "")); }), "empty.csv: empty file");
}

}  // namespace
