// Helpers shared by the loop test files.
#pragma once
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

// loop.jsonl without its timing fields, so two runs' logs compare equal.
inline std::string jsonl_without_seconds(const std::string& path) {
  std::string out, line;
  std::ifstream in(path);
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    j.erase("seconds");
    out += j.dump() + "\n";
  }
  return out;
}
