// A run folder: config.json (the method and every option), model.safetensors (the one-file
// checkpoint), metrics.jsonl, pictures and report.md. Creating one refuses a folder that
// already holds a run; a fresh run that fails before its first checkpoint removes what it
// created, so the same --out can be used again.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace fx::train {

class RunFolder {
 public:
  // resume: the folder must hold a run; otherwise it must not (it is created if missing).
  RunFolder(std::string dir, bool resume);
  ~RunFolder();  // a fresh run not yet committed: removes the files and folder it created
  RunFolder(const RunFolder&) = delete;
  RunFolder& operator=(const RunFolder&) = delete;

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& file) const;
  // Called once the first checkpoint is written: from then on the folder stays.
  void commit() { committed_ = true; }

 private:
  std::string dir_;
  bool created_dir_ = false, committed_ = false;
};

// config.json of a run folder (bounded-depth JSON; errors name the file).
nlohmann::json read_run_config(const std::string& dir);
void write_run_config(const std::string& dir, const nlohmann::json& config);
// Removes "<file>.tmp-<pid>" leftovers of writes a crash interrupted.
void remove_stale_temporaries(const std::string& dir);

}  // namespace fx::train
