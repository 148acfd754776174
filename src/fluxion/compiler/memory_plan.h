// Liveness-based buffer reuse: every planned value gets a byte range of one arena, and
// values whose lifetimes overlap get disjoint ranges. The executor allocates the arena once
// per executable and reuses it on every run, so a compiled step allocates only its outputs
// (which the caller keeps).
#pragma once
#include <cstddef>
#include <cstdint>
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
  std::vector<int64_t> offset_of;  // indexed by value id: byte offset in the arena; -1: not planned
  std::vector<size_t> bytes_of;    // its range's size (a 64-byte multiple)
  size_t planned_bytes = 0;        // the arena's size
  size_t naive_bytes = 0;          // one range per value, no reuse
  size_t peak_live_bytes = 0;      // the most bytes live at one step: no plan can do better
  int peak_step = -1;              // the first step where that many bytes are live
  std::vector<int> live_at_peak;   // the values live there, largest first (for the dump)
  bool planned(int id) const { return id < (int)offset_of.size() && offset_of[id] >= 0; }
  std::string dump() const;
};

// Greedy by size (TensorFlow Lite's arena planner; Pisarchyk & Lee 2020): the largest
// values are placed first, each in the smallest gap between the ranges of the values live
// at the same time that fits it, else above them. Lifetimes that touch at a step overlap
// (a value written at the step another is last read never takes its bytes), so a kernel
// never writes a buffer it still reads.
MemoryPlan plan_buffers(const std::vector<Lifetime>& values, int num_values);

}  // namespace fx::compiler
