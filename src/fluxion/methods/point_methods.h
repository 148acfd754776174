// What the point-cloud methods (rectified flow, PFGM, particle flows, GANs, the Gaussian)
// share: scores of samples against fresh data with their floors, and the samples picture.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "fluxion/core/tensor.h"
#include "fluxion/data/point_source.h"

namespace fx::methods {

// sliced-W2 (256 projections) and MMD² (RBF) of `samples` against fresh data, and the same
// between two independent data samples of the same size (what a perfect model scores).
nlohmann::json score_points(const Tensor& samples, const data::PointSource& data, uint64_t seed);

// For the built-in Gaussian mixtures (8gaussians, 25gaussians): modes covered, modes and the
// high-quality fraction (gen/flow_metrics.h) added to j; other data leave j as it is.
void add_mode_coverage(nlohmann::json& j, const Tensor& samples, const std::string& data);

// dir/samples.png: generated points over data (first two coordinates).
void save_samples_picture(const std::string& path, const std::string& title, const Tensor& samples,
                          const data::PointSource& data, uint64_t seed);

// dir/loss.png from metrics.jsonl's loss column.
void save_loss_picture(const std::string& dir, const std::string& title);

}  // namespace fx::methods
