#include "fluxion/loop/loop_config.h"

#include <cmath>
#include <sstream>

#include "fluxion/core/error.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/io/json_limits.h"
#include "fluxion/loop/image_data.h"

namespace fx::loop {

namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t a = item.find_first_not_of(" \t"), b = item.find_last_not_of(" \t");
    out.push_back(a == std::string::npos ? "" : item.substr(a, b - a + 1));
  }
  return out;
}

}  // namespace

std::string family_name(Family f) {
  switch (f) {
    case Family::fully_synthetic:
      return "fully-synthetic";
    case Family::synthetic_augmentation:
      return "synthetic-augmentation";
    case Family::fresh_data:
      return "fresh-data";
  }
  return "?";
}

Family parse_family(const std::string& s, const std::string& option) {
  for (Family f : {Family::fully_synthetic, Family::synthetic_augmentation, Family::fresh_data})
    if (s == family_name(f)) return f;
  fail("--{}: unknown loop family '{}' (fully-synthetic, synthetic-augmentation, fresh-data)",
       option, s);
}

void LoopConfig::declare(train::OptionSet& o) {
  o.add("out", out, "the study folder (a rerun with the same options resumes it)").in_config =
      false;
  o.add("model", model,
        "the model of each generation: closed-form (a Gaussian: mean and unbiased covariance) "
        "or a registered sampling method (rectified-flow, gaussian, ...)");
  o.add("data", data,
        "the real distribution: a built-in toy (25gaussians, gaussian, moons, ...) or "
        "fashion-mnist (images, for --model ddpm)");
  o.add("dim", dim, "dimension of data = gaussian");
  o.add("families", families,
        "comma-separated loop families: fully-synthetic, synthetic-augmentation, fresh-data");
  o.add("lambdas", lambdas, "comma-separated sampling biases in (0, 1]; 1 = unbiased");
  o.add("generations", generations, "generations per loop (generation 1 trains on real data)");
  o.add("n", n, "training set size of every generation");
  o.add("real-fraction", real_fraction,
        "share of real points in the training set from generation 2 on (augmentation, fresh "
        "data); fully-synthetic uses none");
  o.add("history", history,
        "how many earlier generations contribute synthetic samples (0: all of them)");
  o.add("eval-n", eval_n, "held-out real points and generated points per evaluation");
  o.add("k", k, "k of the k-NN precision and recall");
  o.add("seed", seed, "seed of the real data, the samples and each generation's training");
  o.add("warm-start", warm_start,
        "each generation from 2 on starts from the previous generation's weights (a method "
        "model), not from fresh ones");
  o.add("truncation", truncation,
        "a method model samples with bias lambda by scaling its source noise by sqrt(lambda) "
        "(truncation) instead of keeping the densest fraction lambda of its samples");
  o.add("method-config", method_config,
        "JSON object of the method's options and training options, e.g. "
        "'{\"steps\": 2000, \"hidden\": 128}'; sampling options there too, or apart under "
        "\"sampling\" (DDPM: '{\"steps\": 400, \"sampling\": {\"steps\": 10}}')");
}

std::vector<Family> LoopConfig::family_list() const {
  std::vector<Family> out;
  for (const std::string& s : split_list(families)) {
    Family f = parse_family(s);
    for (Family g : out) FX_CHECK(g != f, "--families: '{}' is listed twice", s);
    out.push_back(f);
  }
  FX_CHECK(!out.empty(), "--families: no loop family given");
  return out;
}

std::vector<double> LoopConfig::lambda_list() const {
  std::vector<double> out;
  for (const std::string& s : split_list(lambdas)) {
    size_t used = 0;
    double v = 0;
    try {
      v = std::stod(s, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    FX_CHECK(used == s.size() && !s.empty(), "--lambdas: '{}' is not a number", s);
    FX_CHECK(std::isfinite(v) && v > 0 && v <= 1,
             "--lambdas: {} is outside (0, 1] (1 = no sampling bias)", s);
    for (double w : out) FX_CHECK(w != v, "--lambdas: {} is listed twice", s);
    out.push_back(v);
  }
  FX_CHECK(!out.empty(), "--lambdas: no value given");
  return out;
}

void LoopConfig::validate() const {
  FX_CHECK(generations >= 1, "--generations must be >= 1, got {}", generations);
  FX_CHECK(std::isfinite(real_fraction) && real_fraction >= 0 && real_fraction <= 1,
           "--real-fraction must be in [0, 1], got {}", real_fraction);
  FX_CHECK(history >= 0, "--history must be >= 0 (0: all earlier generations), got {}", history);
  FX_CHECK(n >= 2, "--n must be >= 2 (a covariance needs two points), got {}", n);
  FX_CHECK(k >= 1, "--k must be >= 1, got {}", k);
  FX_CHECK(eval_n > k, "--eval-n must be > --k = {}, got {}", k, eval_n);
  FX_CHECK(data::is_toy(data) || is_image_data(data),
           "--data: unknown distribution '{}' (built-in: {}, or {})", data,
           fmt::join(data::toy_names(), ", "), kFashionMnist);
  FX_CHECK(!(is_image_data(data) && model == kClosedForm),
           "--data {}: images need a method model that samples images (--model ddpm)", data);
  FX_CHECK(!is_image_data(data) || eval_n <= 10000,
           "--eval-n: {} held-out images, the Fashion-MNIST test split has 10000", eval_n);
  FX_CHECK(dim >= 1 && (data == "gaussian" || dim == 2),
           "--dim: '{}' is 2-D, got dimension {} (only gaussian takes --dim)", data, dim);
  FX_CHECK(!model.empty(), "--model: empty (closed-form or a registered method)");
  FX_CHECK(!(warm_start && model == kClosedForm),
           "--warm-start: the closed-form model is fitted in closed form, it has no weights to "
           "carry over (use a method model)");
  if (!method_config.empty()) {
    FX_CHECK(model != kClosedForm, "--method-config: the closed-form model has no method options");
    nlohmann::json j = io::parse_json_bounded(method_config, io::kMaxJsonDepth, "--method-config");
    FX_CHECK(j.is_object(), "--method-config: not a JSON object: {}", method_config);
  }
  family_list();
  lambda_list();
}

int64_t LoopConfig::real_count(Family f) const {
  if (f == Family::fully_synthetic) return 0;
  return std::llround(double(n) * real_fraction);
}

nlohmann::json LoopConfig::to_json() const {
  LoopConfig c = *this;
  train::OptionSet o;
  c.declare(o);
  return o.to_json();
}

std::string loop_name(Family f, double lambda) {
  return fmt::format("{}-lambda{}", family_name(f), lambda);
}

}  // namespace fx::loop
