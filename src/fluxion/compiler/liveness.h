// Liveness over a schedule: which step writes each value, which step reads it last, and
// so which values can be freed (or their planned bytes reused) after each step. The memory
// plan and donation are built on it.
#pragma once
#include <climits>
#include <vector>

#include "fluxion/compiler/fusion.h"
#include "fluxion/compiler/layout.h"

namespace fx::compiler {

// The last read of an output: the caller keeps it, so it is never freed or reused.
constexpr int kLiveToTheEnd = INT_MAX;

struct Liveness {
  std::vector<int> step_of;  // per value: the step that writes it; -1: not computed
  std::vector<int> last;     // per value: its last reading step; -1: never read
  std::vector<char> alias;   // per value: shares its input's buffer (OpDef::aliases_input)
  std::vector<std::vector<int>> free_after;  // per step: values whose last read it is
};

// A view keeps its input alive as long as the view itself is. A convolution that reads an
// activation from the layout plan's shared blocked copy does not keep the plain tensor
// alive (only the first such read, which makes the copy, does).
Liveness compute_liveness(const Program& p, const FusionPlan& plan, const ConvLayoutPlan& layouts);

// A layout plan that shares no copies, for `steps` steps over `values` values.
ConvLayoutPlan no_shared_layouts(int steps, int values);

}  // namespace fx::compiler
