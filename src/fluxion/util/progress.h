// A progress bar for long jobs, on stderr:
//   train [#####...............] 1234/5000 25% 312.4 it/s ETA 00:12 loss 0.0123
// On a terminal it is redrawn in place (\r) at most 10 times a second; elsewhere (CI logs,
// pipes) it prints a separate line at most every 2 s, plus the first and the last one.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace fx::util {

// Extra "key value" pairs shown after the ETA, e.g. {{"loss", 0.0123}} (4 significant digits).
using ProgressFields = std::vector<std::pair<std::string, double>>;

// "312.4 it/s", or "2.50 s/it" below one per second; "? it/s" when unknown.
std::string format_rate(double items_per_second);
// "00:12", "59:59", "1:00:00"; "--:--" when unknown (negative, NaN or infinite).
std::string format_duration(double seconds);
// The whole line, without \r or \n. total <= 0 means unknown: no bar, percentage or ETA.
std::string format_progress(const std::string& label, int64_t done, int64_t total,
                            double elapsed_seconds, const ProgressFields& fields = {});

struct ProgressOptions {
  FILE* out = stderr;
  int tty = -1;                    // 1/0 forces terminal or log mode; -1 asks isatty(out)
  double redraw_interval_s = 0.1;  // terminal
  double line_interval_s = 2.0;    // logs
};

class Progress {
 public:
  Progress(std::string label, int64_t total, ProgressOptions options = {});
  ~Progress();  // ends an unfinished in-place line so later output starts on a fresh line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(int64_t done, const ProgressFields& fields = {});
  // Prints the final line (with the last `done` and these or the last fields).
  void finish(const ProgressFields& fields = {});

 private:
  void draw(const ProgressFields& fields, bool final_line);

  std::string label_;
  int64_t total_;
  ProgressOptions opt_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t done_ = 0;
  ProgressFields fields_;
  bool drawn_ = false, open_line_ = false, finished_ = false;
};

}  // namespace fx::util
