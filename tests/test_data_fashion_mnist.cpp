// IDX parsing, gzip, and the Fashion-MNIST loader: good files, and every bad-input error names
// the file and the field.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/idx_file.h"
#include "fluxion/io/gzip.h"

namespace {

using Bytes = std::vector<uint8_t>;

Bytes idx_bytes(std::vector<uint32_t> dims, uint8_t type = 0x08) {
  Bytes b = {0, 0, type, uint8_t(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) b.push_back(uint8_t(i * 7));
  return b;
}

std::string gzip_bytes(const Bytes& raw) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, raw.size()) + 64, '\0');
  zs.next_in = const_cast<Bytef*>(raw.data());
  zs.avail_in = uInt(raw.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = uInt(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("fx_fmnist_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& bytes) const {
    const std::string p = (path / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};

std::string as_string(const Bytes& b) { return std::string(b.begin(), b.end()); }

}  // namespace

TEST(IdxFile, ParsesDimsAndValues) {
  const Bytes b = idx_bytes({3, 2, 4});
  const auto a = fx::data::parse_idx(b, "x.idx");
  EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 4}));
  ASSERT_EQ(a.values.size(), 24u);
  EXPECT_EQ(a.values[5], uint8_t(35));
}

TEST(IdxFile, BadInputNamesFileAndField) {
  Bytes b = idx_bytes({2, 2});
  b[0] = 0x1f;
  EXPECT_NE(error_of([&] { fx::data::parse_idx(b, "a.idx"); }).find("a.idx: bad IDX magic"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              fx::data::parse_idx(idx_bytes({2}, 0x0d), "f.idx");
            }).find("element type 0x0d"),
            std::string::npos);
  Bytes truncated = idx_bytes({10, 3});
  truncated.resize(truncated.size() - 1);
  EXPECT_NE(error_of([&] {
              fx::data::parse_idx(truncated, "t.idx");
            }).find("t.idx: truncated IDX data: header promises 30 values, file holds 29"),
            std::string::npos);
  Bytes trailing = idx_bytes({2});
  trailing.push_back(1);
  EXPECT_NE(error_of([&] { fx::data::parse_idx(trailing, "x"); }).find("trailing"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              fx::data::parse_idx(Bytes{0, 0, 8}, "h");
            }).find("truncated IDX header"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              fx::data::parse_idx(Bytes{0, 0, 8, 2, 0, 0, 0, 1}, "h2");
            }).find("rank 2 needs 12"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              fx::data::parse_idx(idx_bytes({0, 3}), "z");
            }).find("dimension 0 is 0"),
            std::string::npos);
}

TEST(IdxFile, SizesThatWrapPast64BitsAreRefused) {
  // 2^17 * 2^17 * 2^30 = 2^64: unchecked, the count wrapped to 0 and this header with no data
  // parsed as an empty array that the loader then indexed.
  Bytes b{0, 0, 8, 3};
  for (uint32_t d : {1u << 17, 1u << 17, 1u << 30})
    for (int k = 3; k >= 0; --k) b.push_back(uint8_t(d >> (8 * k)));
  EXPECT_NE(error_of([&] {
              fx::data::parse_idx(b, "w.idx");
            }).find("w.idx: IDX dimension 2 (1073741824) makes the sizes multiply to more than"),
            std::string::npos)
      << error_of([&] { fx::data::parse_idx(b, "w.idx"); });
}

TEST(Gzip, RoundTripsAndRejectsCorruption) {
  const Bytes raw = idx_bytes({50, 28});
  const std::string gz = gzip_bytes(raw);
  std::span<const uint8_t> gzs(reinterpret_cast<const uint8_t*>(gz.data()), gz.size());
  EXPECT_EQ(fx::io::gunzip(gzs, "g.gz"), as_string(raw));
  EXPECT_NE(error_of([&] {
              fx::io::gunzip(gzs.first(gz.size() / 2), "half.gz");
            }).find("half.gz: truncated gzip stream"),
            std::string::npos);
  std::string bad = gz;
  bad[bad.size() - 6] ^= 0x55;  // inside the CRC-32 trailer
  EXPECT_NE(error_of([&] {
              fx::io::gunzip({reinterpret_cast<const uint8_t*>(bad.data()), bad.size()}, "crc.gz");
            }).find("crc.gz: corrupt gzip data"),
            std::string::npos);
  EXPECT_NE(error_of([&] { fx::io::gunzip(gzs, "big.gz", 100); }).find("more than 100 bytes"),
            std::string::npos);
}

TEST(FashionMnist, LoadsSyntheticFolderAndChecksConsistency) {
  TempDir dir;
  dir.write("t10k-images-idx3-ubyte.gz", gzip_bytes(idx_bytes({4, 3, 2})));
  Bytes labels = idx_bytes({4});
  for (size_t i = 8; i < labels.size(); ++i) labels[i] = uint8_t(i % 10);
  dir.write("t10k-labels-idx1-ubyte", as_string(labels));  // plain IDX is accepted too
  const auto d = fx::data::load_fashion_mnist(dir.path.string(), /*train=*/false);
  EXPECT_EQ(d.images.shape(), (fx::Shape{4, 1, 3, 2}));
  EXPECT_EQ(d.labels.shape(), (fx::Shape{4}));
  EXPECT_FLOAT_EQ(float(d.images.at(5)), 35.0f / 255.0f);
  EXPECT_EQ(d.labels.at(1), 9);
  EXPECT_EQ(fx::data::load_fashion_mnist(dir.path.string(), false, 2).images.dim(0), 2);

  Bytes bad_label = labels;
  bad_label[9] = 12;
  dir.write("t10k-labels-idx1-ubyte", as_string(bad_label));
  EXPECT_NE(error_of([&] {
              fx::data::load_fashion_mnist(dir.path.string(), false);
            }).find("label 12 of example 1 is outside the 10 classes"),
            std::string::npos);
  dir.write("t10k-labels-idx1-ubyte", as_string(idx_bytes({5})));
  EXPECT_NE(error_of([&] {
              fx::data::load_fashion_mnist(dir.path.string(), false);
            }).find("holds 4 images but"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              fx::data::load_fashion_mnist(dir.path.string(), true);
            }).find("train-images-idx3-ubyte.gz' not found"),
            std::string::npos);
}

TEST(FashionMnist, RealDatasetWhenInstalled) {
  const std::string dir = fx::data::default_fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "dataset-fashion-mnist not installed at " << dir;
  const auto test = fx::data::load_fashion_mnist(dir, /*train=*/false);
  EXPECT_EQ(test.images.shape(), (fx::Shape{10000, 1, 28, 28}));
  std::vector<int> per_class(10, 0);
  for (double c : test.labels.to_vector()) per_class[int(c)]++;
  for (int c : per_class) EXPECT_EQ(c, 1000);  // the test split is balanced
  double mean = 0;
  for (float v : test.images.to_f32_vector()) mean += v;
  mean /= double(test.images.numel());
  EXPECT_NEAR(mean, 0.2868, 0.002);  // the published mean pixel of the test split
}
