#include "fluxion/methods/registry.h"

#include <fmt/format.h>

#include <map>

#include "fluxion/core/error.h"

namespace fx::methods {

// One line per method: its factory, defined in its own file.
std::unique_ptr<Method> make_gaussian();
std::unique_ptr<Method> make_rectified_flow();
std::unique_ptr<Method> make_ddpm();
std::unique_ptr<Method> make_lru();
std::unique_ptr<Method> make_rnn();
std::unique_ptr<Method> make_pfgm();
std::unique_ptr<Method> make_particle_flow();
std::unique_ptr<Method> make_monoflow();
std::unique_ptr<Method> make_score_langevin();

namespace {
const std::vector<std::pair<std::string, MethodFactory>>& registry() {
  static const std::vector<std::pair<std::string, MethodFactory>> methods = {
      {"rectified-flow", make_rectified_flow},
      {"ddpm", make_ddpm},
      {"lru", make_lru},
      {"rnn", make_rnn},
      {"pfgm", make_pfgm},
      {"gaussian", make_gaussian},
      {"particle-flow", make_particle_flow},
      {"monoflow", make_monoflow},
      {"score-langevin", make_score_langevin},
  };
  return methods;
}
}  // namespace

std::vector<std::string> method_names() {
  std::vector<std::string> names;
  for (auto& [n, f] : registry()) names.push_back(n);
  return names;
}

bool has_method(const std::string& name) {
  for (auto& [n, f] : registry())
    if (n == name) return true;
  return false;
}

std::unique_ptr<Method> make_method(const std::string& name) {
  for (auto& [n, f] : registry())
    if (n == name) return f();
  fail("unknown method '{}' (registered: {})", name, fmt::join(method_names(), ", "));
}

}  // namespace fx::methods
