// The tensor buffer cache (core/storage_pool): reuse by size, the cap, trimming, threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <vector>

#include "fluxion/core/storage_pool.h"
#include "fluxion/core/tensor.h"

namespace fx {
namespace {

// Restores the process-wide cap a test changed.
struct CapGuard {
  size_t saved = pool_stats().max_cached_bytes;
  ~CapGuard() { pool_set_max_cached_bytes(saved); }
};

TEST(StoragePool, FreedBufferServesTheNextRequestOfItsSize) {
  CapGuard guard;
  pool_set_max_cached_bytes(size_t(64) << 20);
  pool_trim();
  const void* first;
  {
    Tensor t({1000, 100}, DType::f32);
    first = t.raw();
  }
  EXPECT_EQ(pool_stats().cached_bytes, 401408u);  // 400,000 bytes in whole 4 KiB pages
  PoolStats before = pool_stats();
  Tensor again({100, 1000}, DType::f32);  // another shape, the same bytes
  EXPECT_EQ(again.raw(), first);
  EXPECT_EQ(pool_stats().hits, before.hits + 1);
  EXPECT_EQ(pool_stats().cached_bytes, 0u);
  Tensor other({1000, 101}, DType::f32);  // another size: from the system
  EXPECT_NE(other.raw(), first);
  EXPECT_EQ(pool_stats().misses, before.misses + 1);
}

TEST(StoragePool, CapBoundsWhatIsKept) {
  CapGuard guard;
  pool_trim();
  pool_set_max_cached_bytes(1 << 20);
  {
    std::vector<Tensor> ts;
    for (int i = 0; i < 4; ++i) ts.emplace_back(Shape{128, 1024}, DType::f32);  // 512 KiB each
  }
  EXPECT_EQ(pool_stats().cached_bytes, size_t(1) << 20);  // two kept, two freed
  pool_set_max_cached_bytes(0);
  EXPECT_EQ(pool_stats().cached_bytes, 0u) << "lowering the cap below the cache trims it";
  { Tensor t({1000}, DType::f32); }
  EXPECT_EQ(pool_stats().cached_bytes, 0u) << "a zero cap caches nothing";
}

TEST(StoragePool, TrimFreesTheCacheAndLeavesLiveTensorsAlone) {
  CapGuard guard;
  pool_set_max_cached_bytes(size_t(64) << 20);
  Tensor live = Tensor::full({4096}, 3.0);
  { Tensor dropped({4096}, DType::f32); }
  EXPECT_GT(pool_stats().cached_bytes, 0u);
  pool_trim();
  EXPECT_EQ(pool_stats().cached_bytes, 0u);
  EXPECT_EQ(live.to_vector()[4095], 3.0);
}

TEST(StoragePool, ThreadsNeverShareABuffer) {
  // Each thread fills its buffers with its own mark and checks it before freeing: a buffer
  // handed to two holders at once would show the other's mark.
  CapGuard guard;
  pool_set_max_cached_bytes(size_t(64) << 20);
  int bad = 0, misaligned = 0;
#pragma omp parallel num_threads(2) reduction(+ : bad, misaligned)
  {
    uint32_t mark = 0x9e3779b9u * (omp_get_thread_num() + 1);
    for (int i = 0; i < 400; ++i) {
      size_t n = 1000 + (i % 7) * 3000;  // a few sizes, so buffers move between threads
      std::vector<Tensor> held;
      for (int k = 0; k < 3; ++k) {
        Tensor t({(int64_t)n}, DType::i32);
        misaligned += reinterpret_cast<uintptr_t>(t.raw()) % 64 != 0;
        auto* p = static_cast<uint32_t*>(t.raw());
        for (size_t j = 0; j < n; ++j) p[j] = mark + (uint32_t)j;
        held.push_back(t);
      }
      for (Tensor& t : held) {
        auto* p = static_cast<const uint32_t*>(t.raw());
        for (size_t j = 0; j < n; ++j) bad += p[j] != mark + (uint32_t)j;
      }
    }
  }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(misaligned, 0);
}

}  // namespace
}  // namespace fx
