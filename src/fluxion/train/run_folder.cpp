#include "fluxion/train/run_folder.h"

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/json_limits.h"

namespace fx::train {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr const char* kConfigFile = "config.json";
// Files a run writes before its first checkpoint; removed when such a run fails.
constexpr const char* kEarlyFiles[] = {"config.json", "metrics.jsonl"};
}  // namespace

RunFolder::RunFolder(std::string dir, bool resume) : dir_(std::move(dir)) {
  FX_CHECK(!dir_.empty(), "no run folder given (--out)");
  bool has_run = fs::exists(fs::path(dir_) / kConfigFile);
  if (resume) {
    FX_CHECK(has_run, "--resume: '{}' holds no run (no config.json)", dir_);
    committed_ = true;  // never remove a run the user had
  } else {
    FX_CHECK(!has_run,
             "output folder '{}' already holds a run (config.json): use --resume to continue "
             "it, or choose another --out; nothing was overwritten",
             dir_);
    std::error_code ec;
    if (!fs::exists(dir_)) created_dir_ = true;
    fs::create_directories(dir_, ec);
    FX_CHECK(!ec, "cannot create output folder '{}': {}", dir_, ec.message());
  }
  remove_stale_temporaries(dir_);
}

RunFolder::~RunFolder() {
  if (committed_) return;
  std::error_code ec;
  if (created_dir_) {
    fs::remove_all(dir_, ec);
  } else {
    for (const char* f : kEarlyFiles) fs::remove(fs::path(dir_) / f, ec);
  }
}

std::string RunFolder::path(const std::string& file) const {
  return (fs::path(dir_) / file).string();
}

json read_run_config(const std::string& dir) {
  std::string path = (fs::path(dir) / kConfigFile).string();
  std::error_code ec;
  FX_CHECK(fs::is_regular_file(path, ec), "'{}' holds no run (no config.json)", dir);
  json j = io::parse_json_bounded(io::read_file(path), io::kMaxJsonDepth, path);
  FX_CHECK(j.is_object(), "{}: expected a JSON object", path);
  return j;
}

void write_run_config(const std::string& dir, const json& config) {
  io::write_file_atomic((fs::path(dir) / kConfigFile).string(), config.dump(2) + "\n");
}

void remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.find(".tmp-") != std::string::npos && it->is_regular_file())
      fs::remove(it->path(), ec);
  }
}

}  // namespace fx::train
