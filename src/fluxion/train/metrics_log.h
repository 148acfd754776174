// metrics.jsonl: one JSON object per log interval ({"step":..., "loss":..., ...}). Opening it
// to resume at step s drops the lines after s (written after the checkpoint the run resumes
// from), so a resumed run never logs a step twice.
#pragma once
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fx::train {

class MetricsLog {
 public:
  MetricsLog(const std::string& dir, int64_t resume_step);  // resume_step 0: start afresh
  void write(const nlohmann::json& line);

 private:
  std::ofstream out_;
};

// Every line of dir/metrics.jsonl; errors name the file and line.
std::vector<nlohmann::json> read_metrics(const std::string& dir);
// The (step, key) column of the lines that have key.
void metric_column(const std::vector<nlohmann::json>& lines, const std::string& key,
                   std::vector<double>& steps, std::vector<double>& values);

}  // namespace fx::train
