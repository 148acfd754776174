// Reuses freed tensor buffers, by size. An executor that allocates every op's result afresh
// (the interpreter) otherwise leaves each step's buffers to glibc, which serves big blocks
// by mmap and trims its heap top back to the kernel on free: every step then page-faults
// its working set in again. On a VM where a fault is dear this made the interpreter's MLP
// step 29 ms against 4.7 ms with the pool (bench/RESULTS.md). PyTorch's CUDA caching
// allocator keeps blocks for the same reason.
//
// A cache, not an arena: a buffer is reused only for a request of the same rounded size,
// and the cached total is capped (FLUXION_POOL_MAX_BYTES, default 1 GiB; 0 turns it off),
// past which freed buffers go straight back to the system.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fx {

// 64-byte aligned, at least `bytes` long. Fails (fx::Error) when the system has no memory.
void* pool_allocate(size_t bytes);
// Gives back a buffer pool_allocate returned for the same `bytes`.
void pool_release(void* data, size_t bytes);

struct PoolStats {
  size_t cached_bytes = 0;  // held for reuse now
  size_t max_cached_bytes = 0;
  uint64_t hits = 0, misses = 0;  // requests served from the cache / from the system
};
PoolStats pool_stats();
// Frees every cached buffer (memory in use is untouched); like torch.cuda.empty_cache().
void pool_trim();
// Caps the cached total (0: cache nothing); frees the cache if it already holds more.
void pool_set_max_cached_bytes(size_t bytes);

}  // namespace fx
