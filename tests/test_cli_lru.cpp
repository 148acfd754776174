// `fluxion train --method lru|rnn`: a short run writes metrics with held-out accuracy, the
// report and its curves; bad options fail with a message naming them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("fx_cli_lru_" + name + "_" + std::to_string(getpid()));
  fs::remove_all(d);
  return d;
}

TEST(CliLru, TrainWritesMetricsReportAndCurves) {
  for (std::string method : {"lru", "rnn"}) {
    fs::path d = fresh_dir(method);
    CliResult r = run_cli("train --method " + method +
                          " --task recall --length 12 --steps 30 --batch 16 --layers 1"
                          " --d-model 16 --d-state 8 --rnn-hidden 16 --train-size 256"
                          " --test-size 64 --eval-every 15 --out " +
                          d.string());
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("held-out accuracy"), std::string::npos) << r.output;
    std::ifstream m(d / "metrics.jsonl");
    int evals = 0;
    std::string line;
    while (std::getline(m, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("test_acc")) {
        ++evals;
        EXPECT_GE(j["test_acc"].get<double>(), 0.0);
        EXPECT_LE(j["test_acc"].get<double>(), 1.0);
      }
    }
    EXPECT_EQ(evals, 2);
    EXPECT_TRUE(fs::exists(d / "report.md"));
    EXPECT_GT(fs::file_size(d / "curves.png"), 1000u);
    EXPECT_TRUE(fs::exists(d / "model.safetensors"));
    fs::remove_all(d);
  }
}

TEST(CliLru, BadOptionsAreNamed) {
  fs::path d = fresh_dir("bad");
  CliResult r = run_cli("train --method lru --task sudoku --out " + d.string());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--task: unknown 'sudoku'"), std::string::npos) << r.output;
  r = run_cli("bench-lru --seq-len 12,x");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--seq-len"), std::string::npos) << r.output;
  r = run_cli("train --method lru --task recall --precision bf17 --out " + d.string());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("unknown precision 'bf17'"), std::string::npos) << r.output;
  r = run_cli("bench-lru --seq-len 8 --precision bf17");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("unknown precision 'bf17'"), std::string::npos) << r.output;
  r = run_cli("bench-lru --seq-len 8 --recompute-scans");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--recompute-scans needs --compile"), std::string::npos) << r.output;
  r = run_cli("train --method lru --task recall --recompute-scans --out " + d.string());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--recompute-scans needs --compile"), std::string::npos) << r.output;
  fs::remove_all(d);
}

// bench-lru times the compiled step with the bf16 policy and labels the row accordingly.
TEST(CliLru, BenchTimesCompiledAndLowPrecisionSteps) {
  CliResult r = run_cli(
      "bench-lru --seq-len 8 --batch 2 --layers 1 --d-model 8 --d-state 4 --steps 1 --warmup 0"
      " --compile --precision bf16");
  ASSERT_EQ(r.code, 0) << r.output;
  size_t at = r.output.find("RESULT_JSON ");
  ASSERT_NE(at, std::string::npos) << r.output;
  auto j = nlohmann::json::parse(r.output.substr(at + 12, r.output.find('\n', at) - at - 12));
  EXPECT_EQ(j["impl"], "fluxion compiled bf16");
  EXPECT_EQ(j["compile"], true);
  EXPECT_EQ(j["precision"], "bf16");
  EXPECT_GT(j["ms_per_step_median"].get<double>(), 0.0);
}

// A compiled training run records its precision in config.json; compiling is how the run
// was executed (same results), not part of the run, so it is not recorded.
TEST(CliLru, CompiledTrainingRecordsItsOptions) {
  fs::path d = fresh_dir("compiled");
  CliResult r = run_cli(
      "train --method lru --task recall --length 8 --steps 4 --batch 8 --layers 1 --d-model 8"
      " --d-state 4 --train-size 64 --test-size 16 --eval-every 4 --compile --recompute-scans"
      " --out " +
      d.string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(d / "config.json");
  auto j = nlohmann::json::parse(f);
  EXPECT_FALSE(j.contains("compile"));
  EXPECT_FALSE(j.contains("recompute-scans"));
  EXPECT_EQ(j["precision"], "fp32");
  EXPECT_EQ(j["method"], "lru");
  r = run_cli("eval --run " + d.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("test_acc"), std::string::npos) << r.output;
  r = run_cli("sample --run " + d.string());
  EXPECT_NE(r.code, 0);
  fs::remove_all(d);
}

// The paper's optimizer: AdamW with weight decay off the recurrence, which learns at a
// lower rate; both are recorded, and bad values are named.
TEST(CliLru, WeightDecayAndRecurrentLrScaleAreOptions) {
  fs::path d = fresh_dir("wd");
  const std::string base =
      "train --method lru --task recall --length 8 --steps 4 --batch 8 --layers 1 --d-model 8"
      " --d-state 4 --train-size 64 --test-size 16 --eval-every 4 --out " +
      d.string();
  CliResult r = run_cli(base + " --weight-decay 0.05 --recurrent-lr-scale 0.5");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(d / "config.json");
  auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["weight_decay"], 0.05);
  EXPECT_EQ(j["recurrent_lr_scale"], 0.5);
  // fp16 runs log the dynamic loss scale and the steps it skipped.
  fs::path d16 = fresh_dir("wd16");
  r = run_cli(base.substr(0, base.find(" --out ")) + " --precision fp16 --out " + d16.string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream m(d16 / "metrics.jsonl");
  std::string first;
  std::getline(m, first);
  auto line = nlohmann::json::parse(first);
  EXPECT_EQ(line["loss_scale"], 65536.0) << first;
  EXPECT_EQ(line["skipped_steps"], 0) << first;
  r = run_cli(base + " --weight-decay -1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--weight-decay must be >= 0, got -1"), std::string::npos) << r.output;
  r = run_cli(base + " --recurrent-lr-scale 0");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--recurrent-lr-scale must be positive"), std::string::npos) << r.output;
  fs::remove_all(d);
}

}  // namespace
