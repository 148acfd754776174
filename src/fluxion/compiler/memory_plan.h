// Liveness-based buffer reuse: values with disjoint lifetimes share one buffer. The
// executor allocates the buffers once per executable and reuses them on every run, so a
// compiled step allocates only its outputs (which the caller keeps).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace fx::compiler {

// A value written at step `def` and last read at step `last` (def <= last).
struct Lifetime {
  int value = -1;
  size_t bytes = 0;
  int def = 0;
  int last = 0;
};

struct MemoryPlan {
  std::vector<size_t> slot_bytes;  // one buffer per slot (64-byte multiples)
  std::vector<int> slot_of;        // indexed by value id; -1: not planned
  size_t planned_bytes = 0;        // sum of slot_bytes
  size_t naive_bytes = 0;          // one buffer per value, no reuse
  std::string dump() const;
};

// Greedy in definition order, best fit among the buffers free at that step (a buffer
// frees after its value's last read, so a kernel never writes a buffer it still reads).
MemoryPlan plan_buffers(const std::vector<Lifetime>& values, int num_values);

}  // namespace fx::compiler
