// `fluxion train --compile`: the same run folder as the interpreter's, weights bit for bit.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

int run_cli(const std::string& args, std::string* out) {
  std::string cmd = std::string(FLUXION_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out->append(buf.data(), n);
  return WEXITSTATUS(pclose(p));
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST(CompilerCli, TrainCompiledWritesTheSameWeights) {
  fs::path dir = fs::temp_directory_path() / ("fx_cli_compile_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string common = "train --data moons --steps 10 --batch 64 --hidden 16 --layers 2 --out ";
  std::string out_i, out_c;
  ASSERT_EQ(run_cli(common + (dir / "interp").string(), &out_i), 0) << out_i;
  ASSERT_EQ(run_cli(common + (dir / "compiled").string() + " --compile", &out_c), 0) << out_c;
  std::string wi = read_bytes(dir / "interp" / "model.safetensors");
  std::string wc = read_bytes(dir / "compiled" / "model.safetensors");
  EXPECT_FALSE(wi.empty());
  EXPECT_TRUE(wi == wc) << "model.safetensors differs between the executors";
  fs::remove_all(dir);
}
