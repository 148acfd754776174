#include "fluxion/compiler/memory_plan.h"

#include <algorithm>

#include "fluxion/core/error.h"

namespace fx::compiler {

MemoryPlan plan_buffers(const std::vector<Lifetime>& values, int num_values) {
  MemoryPlan plan;
  plan.slot_of.assign(num_values, -1);
  std::vector<Lifetime> order = values;
  std::stable_sort(order.begin(), order.end(),
                   [](const Lifetime& a, const Lifetime& b) { return a.def < b.def; });
  std::vector<int> busy_until;  // per slot: last step its current value is read
  for (const Lifetime& v : order) {
    FX_CHECK(v.def <= v.last, "memory plan: value %{} read before it is written", v.value);
    size_t need = (v.bytes + 63) / 64 * 64;
    plan.naive_bytes += need;
    // Best fit among the free buffers big enough; none: a new buffer (growing a smaller
    // free one would leave its old size unused whenever the bigger value is not live).
    int best = -1;
    for (int s = 0; s < (int)plan.slot_bytes.size(); ++s)
      if (busy_until[s] < v.def && plan.slot_bytes[s] >= need &&
          (best < 0 || plan.slot_bytes[s] < plan.slot_bytes[best]))
        best = s;
    if (best < 0) {
      best = (int)plan.slot_bytes.size();
      plan.slot_bytes.push_back(0);
      busy_until.push_back(-1);
    }
    plan.slot_bytes[best] = std::max(plan.slot_bytes[best], need);
    busy_until[best] = v.last;
    plan.slot_of.at(v.value) = best;
  }
  for (size_t b : plan.slot_bytes) plan.planned_bytes += b;
  return plan;
}

std::string MemoryPlan::dump() const {
  std::string s = fmt::format("buffers: {}, planned {} bytes, without reuse {} bytes\n",
                              slot_bytes.size(), planned_bytes, naive_bytes);
  for (size_t i = 0; i < slot_bytes.size(); ++i) {
    s += fmt::format("  buffer {} ({} bytes):", i, slot_bytes[i]);
    for (size_t v = 0; v < slot_of.size(); ++v)
      if (slot_of[v] == (int)i) s += fmt::format(" %{}", v);
    s += "\n";
  }
  return s;
}

}  // namespace fx::compiler
