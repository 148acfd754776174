// A progress bar for long jobs on stderr: "train [#####.....] 1200/3000 40% 310.2 it/s
// ETA 00:06 loss 0.123". Redrawn in place on a terminal; on a pipe (CI logs) one line
// every few seconds.
#pragma once
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace fx::util {

std::string format_progress(const std::string& label, int64_t done, int64_t total, double seconds,
                            const std::vector<std::pair<std::string, double>>& f);

class Progress {
 public:
  Progress(std::string label, int64_t total);
  void update(int64_t done, const std::vector<std::pair<std::string, double>>& fields = {});
  void finish(const std::vector<std::pair<std::string, double>>& fields = {});

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_;
  int64_t done_ = 0;
};

}  // namespace fx::util
