#include "fluxion/core/storage_pool.h"

#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "fluxion/core/error.h"

namespace fx {

namespace {

// Cache lines below a page, whole pages above: a size seen once is seen again exactly when
// the same shape recurs, which is the case worth serving.
size_t rounded_size(size_t bytes) {
  if (bytes == 0) return 64;
  size_t unit = bytes < 4096 ? 64 : 4096;
  return (bytes + unit - 1) / unit * unit;
}

size_t max_cached_from_env() {
  const char* v = std::getenv("FLUXION_POOL_MAX_BYTES");
  if (!v || !*v) return size_t(1) << 30;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  FX_CHECK(end && *end == '\0' && v[0] != '-', "FLUXION_POOL_MAX_BYTES='{}': not a byte count", v);
  return n;
}

struct Pool {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_by_size;
  PoolStats stats;
  Pool() { stats.max_cached_bytes = max_cached_from_env(); }
};

// Never destroyed: tensors held in static objects are freed after main returns, and must
// still find the pool.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

}  // namespace

void* pool_allocate(size_t bytes) {
  size_t size = rounded_size(bytes);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    auto it = p.free_by_size.find(size);
    if (it != p.free_by_size.end() && !it->second.empty()) {
      void* data = it->second.back();  // the most recently freed: likeliest still in cache
      it->second.pop_back();
      p.stats.cached_bytes -= size;
      ++p.stats.hits;
      return data;
    }
    ++p.stats.misses;
  }
  void* data = std::aligned_alloc(64, size);
  if (!data) fail("out of memory allocating {} bytes", bytes);
  return data;
}

void pool_release(void* data, size_t bytes) {
  if (!data) return;
  size_t size = rounded_size(bytes);
  Pool& p = pool();
  {
    std::lock_guard<std::mutex> lock(p.mu);
    if (p.stats.cached_bytes + size <= p.stats.max_cached_bytes) {
      p.free_by_size[size].push_back(data);
      p.stats.cached_bytes += size;
      return;
    }
  }
  std::free(data);
}

PoolStats pool_stats() {
  Pool& p = pool();
  std::lock_guard<std::mutex> lock(p.mu);
  return p.stats;
}

void pool_trim() {
  Pool& p = pool();
  std::unordered_map<size_t, std::vector<void*>> drop;
  {
    std::lock_guard<std::mutex> lock(p.mu);
    drop.swap(p.free_by_size);
    p.stats.cached_bytes = 0;
  }
  for (auto& [size, blocks] : drop)
    for (void* b : blocks) std::free(b);
}

void pool_set_max_cached_bytes(size_t bytes) {
  bool over;
  {
    std::lock_guard<std::mutex> lock(pool().mu);
    pool().stats.max_cached_bytes = bytes;
    over = pool().stats.cached_bytes > bytes;
  }
  if (over) pool_trim();
}

}  // namespace fx
