// Particle clouds on disk: the start cloud of a flow read from a user's CSV/NPY file (with
// its shape checked against the run), and the cloud of every K-th step written as
// <dir>/step_<000123>.<npy|csv>, listed back in step order (for the animated GIF, which a
// resumed run therefore draws from its first step on).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx::gen {

// The points of `path` (data/points_file.h formats) as the start of `particles` particles of
// dimension `dim`. Errors name the file, the option (--init) and the mismatching number.
Tensor load_start_cloud(const std::string& path, int64_t particles, int64_t dim);

// "npy" or "csv", else an error naming the option and value.
void check_step_format(const std::string& format);
// Writes x as dir/step_<step, 6 digits>.<format> (atomic; creates dir).
std::string save_step_cloud(const std::string& dir, int64_t step, const Tensor& x,
                            const std::string& format);
// (step, path) of every step_<n>.npy / .csv in dir, by step; none when dir is missing.
std::vector<std::pair<int64_t, std::string>> list_step_clouds(const std::string& dir);

}  // namespace fx::gen
