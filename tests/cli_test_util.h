// Running the built `fluxion` command from tests: exit code and combined stdout/stderr.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

struct CliResult {
  int code;
  std::string output;
};

inline CliResult run_cli(const std::string& args) {
  std::string cmd = std::string(FLUXION_CLI_PATH) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = pclose(p);
  return {WEXITSTATUS(status), out};
}
