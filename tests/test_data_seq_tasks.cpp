// The LRU tasks: ListOps (LRA generator and evaluator), long-range recall, and sequential
// Fashion-MNIST (raster and fixed-permutation order).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "fluxion/core/error.h"
#include "fluxion/data/fashion_mnist.h"
#include "fluxion/data/listops.h"
#include "fluxion/data/recall.h"
#include "fluxion/data/seq_fashion_mnist.h"

namespace fx::data {
namespace {

using ::testing::HasSubstr;

std::string err(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Token ids of "[MAX 4 3 ..." style text.
std::vector<int64_t> tokens(const std::vector<std::string>& words) {
  std::vector<int64_t> t;
  for (const auto& w : words) {
    if (w == "[MIN")
      t.push_back(11);
    else if (w == "[MAX")
      t.push_back(12);
    else if (w == "[MED")
      t.push_back(13);
    else if (w == "[SM")
      t.push_back(14);
    else if (w == "]")
      t.push_back(15);
    else
      t.push_back(1 + std::stoi(w));
  }
  return t;
}

TEST(DataListOps, EvaluatesLikeLra) {
  auto ev = [](std::vector<std::string> w) {
    auto t = tokens(w);
    return listops_eval(t.data(), (int64_t)t.size());
  };
  EXPECT_EQ(ev({"[MAX", "4", "3", "[MIN", "2", "3", "]", "1", "0", "]"}), 4);
  EXPECT_EQ(ev({"[MIN", "4", "[MAX", "2", "9", "]", "5", "]"}), 4);
  EXPECT_EQ(ev({"[SM", "5", "6", "7", "]"}), 8);
  EXPECT_EQ(ev({"[MED", "1", "2", "4", "9", "]"}), 3);  // int(median) = int(3.0)
  EXPECT_EQ(ev({"[MED", "1", "2", "3", "8", "]"}), 2);  // int(2.5)
  EXPECT_EQ(ev({"[MED", "7", "1", "5", "]"}), 5);
  auto bad = tokens({"[MAX", "4", "3"});
  EXPECT_THAT(err([&] { listops_eval(bad.data(), (int64_t)bad.size()); }),
              HasSubstr("unterminated"));
}

TEST(DataListOps, GeneratesLabelledSequencesInTheLengthRange) {
  ListOpsOptions o;
  o.min_length = 20;
  o.max_length = 120;
  SequenceSet s = make_listops(200, 7, o);
  ASSERT_EQ(s.x.shape(), (Shape{200, 120}));
  EXPECT_EQ(s.vocab, kListOpsVocab);
  std::set<int64_t> labels;
  for (int64_t i = 0; i < s.size(); ++i) {
    const int64_t* row = s.x.data<int64_t>() + i * 120;
    int64_t len = std::find(row, row + 120, 0) - row;
    EXPECT_GE(len, 20);
    EXPECT_LE(len, 120);
    EXPECT_EQ(listops_eval(row, 120), s.y.data<int64_t>()[i]) << listops_text(row, 120);
    labels.insert(s.y.data<int64_t>()[i]);
  }
  EXPECT_GE(labels.size(), 8u) << "labels should cover most of the 10 classes";
  SequenceSet again = make_listops(200, 7, o);
  EXPECT_EQ(again.x.to_vector(), s.x.to_vector()) << "same seed, same set";
  EXPECT_NE(make_listops(200, 8, o).x.to_vector(), s.x.to_vector());
  EXPECT_THAT(err([] { make_listops(10, 1, ListOpsOptions{.min_length = 50, .max_length = 10}); }),
              HasSubstr("min_length <= max_length"));
}

TEST(DataRecall, LabelIsTheFirstSymbol) {
  RecallOptions o{.length = 50, .symbols = 5, .distractors = 3};
  SequenceSet s = make_recall(100, 3, o);
  EXPECT_EQ(s.vocab, 9);
  EXPECT_EQ(s.n_classes, 5);
  std::set<int64_t> seen;
  for (int64_t i = 0; i < 100; ++i) {
    const int64_t* row = s.x.data<int64_t>() + i * 50;
    EXPECT_EQ(row[0], s.y.data<int64_t>()[i]);
    EXPECT_EQ(row[49], 8) << "query token last";
    for (int t = 1; t < 49; ++t) EXPECT_TRUE(row[t] >= 5 && row[t] < 8);
    seen.insert(row[0]);
  }
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_THAT(err([] { make_recall(10, 1, RecallOptions{.length = 1}); }),
              HasSubstr("length must be at least 2"));
}

TEST(DataSeqFashionMnist, RasterAndPermutedOrder) {
  std::string dir = default_fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Fashion-MNIST not installed in " << dir;
  LabeledImages im = load_fashion_mnist(dir, false, 4);
  SequenceSet r = make_sequential_fashion_mnist(dir, false, 4, false);
  SequenceSet p = make_sequential_fashion_mnist(dir, false, 4, true, 5);
  ASSERT_EQ(r.x.shape(), (Shape{4, 784, 1}));
  std::vector<int64_t> perm = pixel_permutation(5);
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 784; ++i) ASSERT_EQ(sorted[i], i);
  EXPECT_EQ(perm, pixel_permutation(5));
  const float* px = im.images.data<float>();
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t t = 0; t < 784; t += 97) {
      EXPECT_FLOAT_EQ(r.x.data<float>()[i * 784 + t], (px[i * 784 + t] - 0.2860f) / 0.3530f);
      EXPECT_FLOAT_EQ(p.x.data<float>()[i * 784 + t], (px[i * 784 + perm[t]] - 0.2860f) / 0.3530f);
    }
  EXPECT_EQ(r.y.to_vector(), im.labels.to_vector());
}

}  // namespace
}  // namespace fx::data
