// Dead-code elimination: rebuild only what the outputs need.
#include "fluxion/compiler/passes.h"

namespace fx::compiler {

Program dead_code_elimination(const Program& p) {
  std::vector<char> live = live_nodes(p);
  Rebuilder rb(p);
  for (int i = 0; i < p.size(); ++i)
    if (live[i]) rb.copy(i);
  return rb.finish();
}

}  // namespace fx::compiler
