// particle-flow's start clouds from CSV/NPY (--init) and per-step output (--save-every): the
// saved step 0 is the file's cloud, every K-th step and the last are written, particles.gif
// has one frame per saved step, a resumed run keeps them, and shape errors are named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "fluxion/data/points_file.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/gif.h"
#include "fluxion/io/samples_file.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

class ParticleFlowFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fx_pf_files_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // n points on a line from (-3, 3) to (3, -3), as CSV with a header.
  void write_cloud(const std::string& name, int n, int cols = 2) {
    std::ofstream out(path(name));
    out << "x,y" << (cols == 3 ? ",z" : "") << "\n";
    for (int i = 0; i < n; ++i) {
      double t = -3 + 6.0 * i / (n - 1);
      out << t << "," << -t << (cols == 3 ? ",0" : "") << "\n";
    }
  }
  fs::path dir_;
};

const std::string kBase =
    "train --method particle-flow --flow langevin --particles 50 --steps 7 --log-every 7";
const std::string kRun = kBase + " --save-every 3";

TEST_F(ParticleFlowFiles, InitFromCsvAndEveryKthStepAsNpyWithAGif) {
  write_cloud("start.csv", 50);
  auto r = run_cli(kRun + " --init " + path("start.csv") + " --out " + path("run"));
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"step_000000.npy", "step_000003.npy", "step_000006.npy", "step_000007.npy"})
    EXPECT_TRUE(fs::exists(path("run/steps/") + f)) << f;
  EXPECT_FALSE(fs::exists(path("run/steps/step_000001.npy")));
  // Step 0 is the file's cloud, exactly.
  fx::Tensor start = fx::data::load_points(path("start.csv"));
  fx::Tensor s0 = fx::data::load_points(path("run/steps/step_000000.npy"));
  EXPECT_EQ(start.to_f32_vector(), s0.to_f32_vector());
  // The last saved step is the run's particles.
  auto s = run_cli("sample particle-flow --run " + path("run") + " -n 50 --out " + path("p.npy"));
  ASSERT_EQ(s.code, 0) << s.output;
  EXPECT_EQ(fx::data::load_points(path("p.npy")).to_f32_vector(),
            fx::data::load_points(path("run/steps/step_000007.npy")).to_f32_vector());
  std::string gif = fx::io::read_file(path("run/particles.gif"));
  auto frames = fx::io::decode_gif(std::vector<uint8_t>(gif.begin(), gif.end()), "particles.gif");
  EXPECT_EQ(frames.size(), 4u);
}

TEST_F(ParticleFlowFiles, CsvStepsAndAResumedRunKeepsTheEarlierFrames) {
  fx::io::write_samples(path("start.npy"), fx::data::load_points([&] {
                          write_cloud("start.csv", 50);
                          return path("start.csv");
                        }()));
  std::string args = kRun + " --save-format csv --init " + path("start.npy") + " --out " +
                     path("run") + " --checkpoint-every 3";  // a checkpoint at the stop
  auto a = run_cli(args + " --stop-after 3");
  ASSERT_EQ(a.code, 0) << a.output;
  auto b = run_cli(args + " --resume");
  ASSERT_EQ(b.code, 0) << b.output;
  for (const char* f : {"step_000000.csv", "step_000003.csv", "step_000006.csv", "step_000007.csv"})
    EXPECT_TRUE(fs::exists(path("run/steps/") + f)) << f;
  std::string gif = fx::io::read_file(path("run/particles.gif"));
  EXPECT_EQ(fx::io::decode_gif(std::vector<uint8_t>(gif.begin(), gif.end()), "g").size(), 4u);
}

TEST_F(ParticleFlowFiles, BadStartCloudsAreNamed) {
  write_cloud("three.csv", 50, 3);
  write_cloud("few.csv", 20);
  std::ofstream(path("nan.csv")) << "1,2\nnan,3\n";
  struct Case {
    std::string args, expect;
  };
  std::vector<Case> cases = {
      {"--init " + path("three.csv"),
       "the points have 3 coordinates but the target is 2-dimensional"},
      {"--init " + path("few.csv"),
       "the file has 20 points but --particles is 50 (pass --particles 20)"},
      {"--init " + path("nan.csv"), "nan.csv"},
      {"--init " + path("missing.csv"), "missing.csv"},
      {"--save-format png", "--save-format must be npy or csv, got 'png'"},
      {"--save-every -1", "--save-every must not be negative, got -1"},
  };
  for (auto& c : cases) {
    auto r = run_cli(kBase + " " + c.args + " --out " + path("x"));
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_THAT(r.output, HasSubstr(c.expect)) << c.args;
  }
}

}  // namespace
