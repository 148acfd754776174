#include "fluxion/gen/particle_files.h"

#include <algorithm>
#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/data/points_file.h"
#include "fluxion/gen/particles.h"
#include "fluxion/io/samples_file.h"

namespace fx::gen {

namespace fs = std::filesystem;

Tensor load_start_cloud(const std::string& path, int64_t particles, int64_t dim) {
  Tensor x = data::load_points(path);  // names the file, line and value of bad cells
  FX_CHECK(x.dim(1) == dim,
           "--init {}: the points have {} coordinates but the target is {}-dimensional", path,
           x.dim(1), dim);
  FX_CHECK(x.dim(0) == particles,
           "--init {}: the file has {} points but --particles is {} (pass --particles {})", path,
           x.dim(0), particles, x.dim(0));
  check_particles(x, "--init " + path);
  return x;
}

void check_step_format(const std::string& format) {
  FX_CHECK(format == "npy" || format == "csv", "--save-format must be npy or csv, got '{}'",
           format);
}

std::string save_step_cloud(const std::string& dir, int64_t step, const Tensor& x,
                            const std::string& format) {
  check_step_format(format);
  fs::create_directories(dir);
  std::string path = (fs::path(dir) / fmt::format("step_{:06d}.{}", step, format)).string();
  io::write_samples(path, x);
  return path;
}

std::vector<std::pair<int64_t, std::string>> list_step_clouds(const std::string& dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string(), ext = e.path().extension().string();
    if (name.rfind("step_", 0) != 0 || (ext != ".npy" && ext != ".csv")) continue;
    std::string digits = name.substr(5, name.size() - 5 - ext.size());
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) continue;
    out.push_back({std::stoll(digits), e.path().string()});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace fx::gen
