#include "fluxion/exec/run_profile.h"

#include <fmt/format.h>

#include <functional>

namespace fx {

std::string RunProfile::line(const std::string& title) const {
  if (runs_ == 0) return "";
  const auto& ms_by_kind = runs_ > 1 ? rest_ : first_;
  int counted = runs_ > 1 ? runs_ - 1 : 1;
  std::multimap<double, std::string, std::greater<double>> by_time;
  for (const auto& [kind, ms] : ms_by_kind)
    if (ms > 0) by_time.emplace(ms / counted, kind);
  std::string s = fmt::format(
      "{}, mean over {}:", title,
      runs_ > 1 ? fmt::format("runs 2..{} (the first left out)", runs_) : "its only run");
  for (const auto& [ms, kind] : by_time) s += fmt::format(" {}={:.3f}", kind, ms);
  return s;
}

}  // namespace fx
