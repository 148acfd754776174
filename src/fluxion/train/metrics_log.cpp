#include "fluxion/train/metrics_log.h"

#include <filesystem>
#include <sstream>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/json_limits.h"

namespace fx::train {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
std::string metrics_path(const std::string& dir) {
  return (fs::path(dir) / "metrics.jsonl").string();
}
}  // namespace

MetricsLog::MetricsLog(const std::string& dir, int64_t resume_step) {
  const std::string path = metrics_path(dir);
  if (resume_step > 0 && fs::exists(path)) {
    // Keep the lines up to the checkpoint; later ones are replayed by the resumed run.
    std::string kept;
    for (const json& line : read_metrics(dir))
      if (line.value("step", (int64_t)0) <= resume_step) kept += line.dump() + "\n";
    io::write_file_atomic(path, kept);
  }
  out_.open(path, resume_step > 0 ? std::ios::app : std::ios::trunc);
  FX_CHECK(out_.good(), "cannot write {}", path);
}

void MetricsLog::write(const json& line) {
  out_ << line.dump() << "\n";
  out_.flush();
}

std::vector<json> read_metrics(const std::string& dir) {
  const std::string path = metrics_path(dir);
  std::vector<json> lines;
  if (!fs::exists(path)) return lines;
  std::istringstream in(io::read_file(path));
  std::string text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.empty()) continue;
    io::check_json_depth(text, io::kMaxJsonDepth, path);
    json j = json::parse(text, nullptr, false);
    // A kill mid-write can leave a torn last line: skip it rather than refuse the run.
    if (j.is_discarded() && in.peek() == EOF) break;
    FX_CHECK(!j.is_discarded() && j.is_object(), "{}: line {} is not a JSON object", path, n);
    lines.push_back(std::move(j));
  }
  return lines;
}

void metric_column(const std::vector<json>& lines, const std::string& key,
                   std::vector<double>& steps, std::vector<double>& values) {
  for (const json& j : lines) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) continue;
    steps.push_back(j.value("step", 0.0));
    values.push_back(it->get<double>());
  }
}

}  // namespace fx::train
