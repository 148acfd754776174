#include "fluxion/util/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace fx::util {

namespace {
constexpr int kBarWidth = 20;

double seconds_between(std::chrono::steady_clock::time_point a,
                       std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

std::string format_rate(double r) {
  if (!(r > 0) || !std::isfinite(r)) return "? it/s";
  if (r >= 1) return fmt::format("{:.1f} it/s", r);
  return fmt::format("{:.2f} s/it", 1 / r);
}

std::string format_duration(double s) {
  if (!(s >= 0) || !std::isfinite(s) || s > 1e9) return "--:--";
  int64_t t = (int64_t)std::llround(s);
  int64_t h = t / 3600, m = t / 60 % 60, sec = t % 60;
  if (h > 0) return fmt::format("{}:{:02d}:{:02d}", h, m, sec);
  return fmt::format("{:02d}:{:02d}", m, sec);
}

std::string format_progress(const std::string& label, int64_t done, int64_t total, double elapsed,
                            const ProgressFields& fields) {
  double rate = elapsed > 0 ? done / elapsed : 0.0;
  std::string s = label.empty() ? "" : label + " ";
  if (total > 0) {
    double frac = std::clamp((double)done / total, 0.0, 1.0);
    int filled = (int)(frac * kBarWidth);
    double eta = rate > 0 ? std::max<int64_t>(0, total - done) / rate : -1;
    s += fmt::format("[{}{}] {}/{} {:.0f}% {} ETA {}", std::string(filled, '#'),
                     std::string(kBarWidth - filled, '.'), done, total, std::floor(100 * frac),
                     format_rate(rate), format_duration(eta));
  } else {
    s += fmt::format("{} {} elapsed {}", done, format_rate(rate), format_duration(elapsed));
  }
  for (const auto& [key, value] : fields) s += fmt::format(" {} {:.4g}", key, value);
  return s;
}

Progress::Progress(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(total), opt_(options) {
  tty_ = opt_.tty >= 0 ? opt_.tty == 1 : ::isatty(::fileno(opt_.out)) == 1;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() {
  if (open_line_) std::fputc('\n', opt_.out);
}

void Progress::update(int64_t done, const ProgressFields& fields) {
  done_ = done;
  fields_ = fields;
  double since = seconds_between(last_draw_, std::chrono::steady_clock::now());
  double interval = tty_ ? opt_.redraw_interval_s : opt_.line_interval_s;
  if (drawn_ && since < interval) return;
  draw(fields, false);
}

void Progress::finish(const ProgressFields& fields) {
  if (finished_) return;
  finished_ = true;
  draw(fields.empty() ? fields_ : fields, true);
}

void Progress::draw(const ProgressFields& fields, bool final_line) {
  auto now = std::chrono::steady_clock::now();
  std::string line = format_progress(label_, done_, total_, seconds_between(start_, now), fields);
  if (tty_) {  // \033[K clears what a longer previous line left behind
    std::fprintf(opt_.out, "\r%s\033[K%s", line.c_str(), final_line ? "\n" : "");
    open_line_ = !final_line;
  } else {
    std::fprintf(opt_.out, "%s\n", line.c_str());
  }
  std::fflush(opt_.out);
  last_draw_ = now;
  drawn_ = true;
}

}  // namespace fx::util
