// Options of a self-consuming loop study (Alemohammad et al., "Self-Consuming Generative Models
// Go MAD", ICLR 2024): generation t = 1..T of a model is trained on a set built from real data
// and samples of earlier generations, by one of three loop families:
//   fully-synthetic         generation 1 on real data, later ones only on synthetic samples
//   synthetic-augmentation  a fixed real set (generation 1's, first n·real_fraction points)
//                           plus synthetic samples
//   fresh-data              a new real set each generation plus synthetic samples
// Sampling bias λ ∈ (0, 1]: the Gaussian model samples N(μ, λΣ); a learned model keeps the
// fraction λ of its samples with the highest density (loop/quality_filter.h) or, with
// truncation, draws its source noise scaled by √λ. One study runs
// every (family, λ) pair of the lists below into its own folder.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "fluxion/train/options.h"

namespace fx::loop {

// --model: the closed-form Gaussian (gaussian_loop_model.h); any other name is a method.
inline constexpr const char* kClosedForm = "closed-form";

enum class Family { fully_synthetic, synthetic_augmentation, fresh_data };

std::string family_name(Family f);
// Throws naming `option` and the value, listing the three families.
Family parse_family(const std::string& s, const std::string& option = "families");

struct LoopConfig {
  std::string out;                    // the study folder
  std::string model = "closed-form";  // the closed-form Gaussian, or a registered sampling method
  std::string data = "25gaussians";   // the real distribution: a built-in toy (data/toy2d.h)
  int64_t dim = 2;                    // only for data = gaussian
  std::string families = "fully-synthetic,synthetic-augmentation,fresh-data";
  std::string lambdas = "1,0.7";  // sampling bias values, each in (0, 1]
  int64_t generations = 10;
  int64_t n = 1000;            // training set size of every generation
  double real_fraction = 0.5;  // real share of the set from generation 2 on (not fully-synthetic)
  int64_t history = 1;         // how many earlier generations give synthetic samples; 0: all
  int64_t eval_n = 2000;       // held-out real points and generated points for the metrics
  int64_t k = 3;               // k of k-NN precision/recall
  uint64_t seed = 0;
  bool warm_start = false;  // generation t >= 2 starts from generation t-1's weights
  // How a method model applies λ < 1: false keeps the densest fraction λ of a larger pool
  // (quality_filter.h); true samples from truncated source noise, scaled by √λ (the method's
  // source-scale sampling option), as the closed form's N(μ, λΣ) does.
  bool truncation = false;
  std::string method_config;  // JSON object of the method's options and shared training options,
                              // e.g. {"steps": 2000, "hidden": 128}; only for a method model

  // The loop's options (`out` among them, but not in to_json: a study may move).
  void declare(train::OptionSet& o);
  // Throws fx::Error naming the option and the value.
  void validate() const;

  std::vector<Family> family_list() const;
  std::vector<double> lambda_list() const;
  // Every option but out: what study.json holds and a resume compares.
  nlohmann::json to_json() const;
  // n·real_fraction rounded: the real points in the set of a generation t ≥ 2.
  int64_t real_count(Family f) const;
};

// "fully-synthetic-lambda0.7": the folder of one loop in the study.
std::string loop_name(Family f, double lambda);

}  // namespace fx::loop
