#include "fluxion/compiler/memory_plan.h"

#include <algorithm>
#include <map>

#include "fluxion/core/error.h"

namespace fx::compiler {

MemoryPlan plan_buffers(const std::vector<Lifetime>& values, int num_values) {
  MemoryPlan plan;
  plan.offset_of.assign(num_values, -1);
  plan.bytes_of.assign(num_values, 0);
  std::vector<Lifetime> order = values;
  for (Lifetime& v : order) {
    FX_CHECK(v.def <= v.last, "memory plan: value %{} read before it is written", v.value);
    v.bytes = (v.bytes + 63) / 64 * 64;
    plan.naive_bytes += v.bytes;
  }
  std::stable_sort(order.begin(), order.end(), [](const Lifetime& a, const Lifetime& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.def < b.def;
  });
  struct Placed {
    int64_t offset;
    size_t bytes;
    int def, last;
  };
  std::vector<Placed> placed;
  std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of overlapping ranges
  for (const Lifetime& v : order) {
    busy.clear();
    for (const Placed& q : placed)
      if (q.def <= v.last && v.def <= q.last)
        busy.push_back({q.offset, q.offset + (int64_t)q.bytes});
    std::sort(busy.begin(), busy.end());
    // Smallest gap that fits; none: above everything live at the same time.
    int64_t best = -1, best_gap = INT64_MAX, top = 0;
    for (const auto& [b, e] : busy) {
      int64_t gap = b - top;
      if (gap >= (int64_t)v.bytes && gap < best_gap) {
        best = top;
        best_gap = gap;
      }
      top = std::max(top, e);
    }
    if (best < 0) best = top;
    placed.push_back({best, v.bytes, v.def, v.last});
    plan.offset_of.at(v.value) = best;
    plan.bytes_of.at(v.value) = v.bytes;
    plan.planned_bytes = std::max(plan.planned_bytes, (size_t)best + v.bytes);
  }
  std::map<int, int64_t> delta;  // live bytes per step, for the lower bound
  for (const Lifetime& v : order) {
    delta[v.def] += (int64_t)v.bytes;
    delta[v.last + 1] -= (int64_t)v.bytes;
  }
  int64_t live = 0;
  for (auto& [step, d] : delta) {
    live += d;
    if ((size_t)live > plan.peak_live_bytes) {
      plan.peak_live_bytes = (size_t)live;
      plan.peak_step = step;
    }
  }
  for (const Lifetime& v : order)  // already largest first
    if (v.def <= plan.peak_step && plan.peak_step <= v.last) plan.live_at_peak.push_back(v.value);
  return plan;
}

std::string MemoryPlan::dump() const {
  std::string s =
      fmt::format("arena {} bytes (most live at one step {} bytes), without reuse {} bytes\n",
                  planned_bytes, peak_live_bytes, naive_bytes);
  s += fmt::format("live at step {} (the peak):", peak_step);
  for (int v : live_at_peak) s += fmt::format(" %{} ({} B)", v, bytes_of[v]);
  s += "\n";
  std::multimap<int64_t, int> by_offset;
  for (size_t v = 0; v < offset_of.size(); ++v)
    if (offset_of[v] >= 0) by_offset.emplace(offset_of[v], (int)v);
  for (auto& [off, v] : by_offset)
    s += fmt::format("  [{}, {}) %{}\n", off, off + (int64_t)bytes_of[v], v);
  return s;
}

}  // namespace fx::compiler
