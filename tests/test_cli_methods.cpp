// The `fluxion` command made from the method registry: every method is listed and has the
// same verbs and run folder; a verb a method lacks is named; and a run killed at random
// points resumes to the weights of an uninterrupted run (the crash drill).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "cli_test_util.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/methods/registry.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/metrics_log.h"
#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace {

class CliMethods : public TempDirTest {};

// Starts `fluxion args` (output discarded) and returns its pid.
pid_t start_cli(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(FLUXION_CLI_PATH)};
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execv(FLUXION_CLI_PATH, argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST_F(CliMethods, HelpListsEveryMethodAndVerb) {
  auto r = run_cli("train --help");
  EXPECT_EQ(r.code, 0);
  for (const std::string& m : fx::methods::method_names())
    EXPECT_NE(r.output.find(m), std::string::npos) << m << "\n" << r.output;
  r = run_cli("train gaussian --help");
  EXPECT_EQ(r.code, 0);
  for (const char* o : {"--steps", "--seed", "--resume", "--stop-after", "--compile", "--precision",
                        "--data", "--out"})
    EXPECT_NE(r.output.find(o), std::string::npos) << o << "\n" << r.output;
}

TEST_F(CliMethods, UnknownMethodsAndMissingVerbsAreNamed) {
  auto r = run_cli("train --method gan --out " + path("x"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("unknown method 'gan' (registered: rectified-flow, "), std::string::npos)
      << r.output;
  r = run_cli("reflow --method ddpm --from a --out b");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("method 'ddpm' has no verb 'reflow'"), std::string::npos) << r.output;
  r = run_cli("train --method gaussian --steps 99999999999999999999999 --out " + path("y"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--steps: 99999999999999999999999 is out of range"), std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(path("y")));
  r = run_cli("train --method gaussian --steps 0 --out " + path("z"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("--steps must be positive, got 0"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(path("z"))) << "a run that failed validation leaves no folder";
  r = run_cli("train --method gaussian --lr 1e-3x --out " + path("z"));
  EXPECT_NE(r.output.find("--lr: '1e-3x' is not a number"), std::string::npos) << r.output;
}

TEST_F(CliMethods, TheExampleMethodTrainsSamplesAndEvaluates) {
  auto r = run_cli("train --method gaussian --data 8gaussians --steps 50 --out " + path("g"));
  ASSERT_EQ(r.code, 0) << r.output;
  r = run_cli("sample --run " + path("g") + " -n 100 --shrink 0.5 --out " + path("s.csv"));
  ASSERT_EQ(r.code, 0) << r.output;
  std::string csv = fx::io::read_file(path("s.csv"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 100);
  r = run_cli("eval --run " + path("g") + " -n 500");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("sliced-W2"), std::string::npos) << r.output;
  r = run_cli("sample --run " + path("g") + " --shrink 0 --out " + path("t.csv"));
  EXPECT_NE(r.output.find("--shrink must be positive, got 0"), std::string::npos) << r.output;
  r = run_cli("sample --run " + path("g") + " --out " + path("t.txt"));
  EXPECT_NE(r.output.find("unknown format"), std::string::npos) << r.output;
}

// kill -9 at random points, each time resuming; the end is the uninterrupted run's weights,
// with one metrics line per logged step.
TEST_F(CliMethods, KilledRunsResumeToTheUninterruptedWeights) {
  const std::vector<std::string> args = {
      "train",       "--method", "gaussian",           "--steps", "3000", "--batch", "64",
      "--log-every", "10",       "--checkpoint-every", "25",      "--out"};
  auto with_out = [&](const std::string& out, bool resume) {
    std::vector<std::string> a = args;
    a.push_back(out);
    if (resume) a.push_back("--resume");
    return a;
  };
  auto t0 = std::chrono::steady_clock::now();
  pid_t p = start_cli(with_out(path("full"), false));
  int status = 0;
  waitpid(p, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const double whole_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

  std::mt19937 rng(7);
  int killed = 0;
  for (int drill = 0; drill < 8; ++drill) {
    bool resume = fs::exists(path("part/config.json"));
    pid_t q = start_cli(with_out(path("part"), resume));
    std::uniform_real_distribution<double> when(0.05 * whole_ms, 0.9 * whole_ms);
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(when(rng)));
    killed += kill(q, SIGKILL) == 0;
    waitpid(q, &status, 0);
    // Whatever the moment, the folder holds a loadable checkpoint or none at all.
    if (fx::train::has_checkpoint(path("part")))
      EXPECT_NO_THROW(fx::train::load_checkpoint(path("part"))) << "drill " << drill;
  }
  EXPECT_GT(killed, 0);
  bool resume = fs::exists(path("part/config.json"));
  p = start_cli(with_out(path("part"), resume));
  waitpid(p, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto a = fx::train::load_checkpoint(path("full")), b = fx::train::load_checkpoint(path("part"));
  EXPECT_EQ(b.step, 3000);
  for (auto& [name, t] : a.weights)
    EXPECT_EQ(t.to_f32_vector(), b.weights.at(name).to_f32_vector()) << name;
  std::vector<double> steps, losses;
  fx::train::metric_column(fx::train::read_metrics(path("part")), "loss", steps, losses);
  for (size_t i = 1; i < steps.size(); ++i) EXPECT_LT(steps[i - 1], steps[i]) << i;
  for (auto& e : fs::directory_iterator(path("part")))
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

// --compile is how a step runs, not what it computes: for every method with a traced step,
// the compiled run writes the interpreted run's checkpoint, bit for bit.
TEST_F(CliMethods, CompiledRunsOfEveryMethodWriteTheSameWeights) {
  const std::vector<std::string> runs = {
      "train --method gaussian --steps 20",
      "train --method pfgm --data 8gaussians --steps 6 --batch 32 --large-batch 128 --hidden 16 "
      "--layers 1",
      "train --method monoflow --steps 6 --batch 32 --hidden 16 --layers 1",
      "train --method particle-flow --flow kl --steps 4 --particles 64 --batch 32 --hidden 16 "
      "--classifier-steps 1",
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    SCOPED_TRACE(runs[i]);
    const std::string a = path("i" + std::to_string(i)), b = path("c" + std::to_string(i));
    auto r = run_cli(runs[i] + " --out " + a);
    ASSERT_EQ(r.code, 0) << r.output;
    r = run_cli(runs[i] + " --compile --out " + b);
    ASSERT_EQ(r.code, 0) << r.output;
    auto x = fx::train::load_checkpoint(a), y = fx::train::load_checkpoint(b);
    for (auto& [name, t] : x.weights)
      EXPECT_EQ(t.to_f32_vector(), y.weights.at(name).to_f32_vector()) << name;
    for (auto& [name, t] : x.state)
      EXPECT_EQ(t.to_f32_vector(), y.state.at(name).to_f32_vector()) << name;
  }
}
