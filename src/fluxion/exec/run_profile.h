// FLUXION_PROFILE's table, shared by the interpreter and the compiled executor: milliseconds
// by kind (op name, "fused_kernels", ...), with the first run kept apart. The first run
// touches fresh buffers and creates library primitives (a U-Net kernel: ~30 ms then, 1.1 ms
// after), so the line averages runs 2..N when there are any.
#pragma once
#include <map>
#include <string>

namespace fx {

class RunProfile {
 public:
  void add(const std::string& kind, double ms) { (runs_ == 0 ? first_ : rest_)[kind] += ms; }
  void end_run() { ++runs_; }
  // "<title>, mean over runs 2..N (the first left out): kind=ms ...", slowest first;
  // empty before the first run.
  std::string line(const std::string& title) const;

 private:
  int runs_ = 0;
  std::map<std::string, double> first_, rest_;
};

}  // namespace fx
