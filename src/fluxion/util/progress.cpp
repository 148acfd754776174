#include "fluxion/util/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace fx::util {

std::string format_progress(const std::string& label, int64_t done, int64_t total, double seconds,
                            const std::vector<std::pair<std::string, double>>& f) {
  double frac = total > 0 ? (double)done / total : 1.0;
  int width = 24, filled = (int)(frac * width);
  double rate = seconds > 0 ? done / seconds : 0.0;
  double eta = rate > 0 ? (total - done) / rate : 0.0;
  std::string s = fmt::format("{} [{}{}] {}/{} {:3.0f}% {:.1f} it/s ETA {:02d}:{:02d}", label,
                              std::string(filled, '#'), std::string(width - filled, '.'), done,
                              total, 100 * frac, rate, (int)eta / 60, (int)eta % 60);
  for (const auto& [k, v] : f) s += fmt::format(" {} {:.4g}", k, v);
  return s;
}

Progress::Progress(std::string label, int64_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(2)) {
  start_ = last_ = std::chrono::steady_clock::now();
}

void Progress::update(int64_t done, const std::vector<std::pair<std::string, double>>& f) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.1 : 3.0) && done < total_) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  std::string s = format_progress(label_, done, total_, secs, f);
  std::fprintf(stderr, tty_ ? "\r%s\033[K" : "%s\n", s.c_str());
}

void Progress::finish(const std::vector<std::pair<std::string, double>>& f) {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string s = format_progress(label_, done_, total_, secs, f);
  std::fprintf(stderr, tty_ ? "\r%s\033[K\n" : "%s\n", s.c_str());
}

}  // namespace fx::util
