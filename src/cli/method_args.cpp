#include "method_args.h"

#include <fmt/format.h>

#include <algorithm>

#include "fluxion/core/error.h"
#include "fluxion/methods/registry.h"
#include "fluxion/train/run_folder.h"

namespace fx::cli {

namespace {

const std::vector<std::string> kMethodVerbs = {"train", "sample", "eval", "compare-precision"};

// The value of --name (as "--name v" or "--name=v"), removed from args when `take`.
std::optional<std::string> option_value(std::vector<std::string>& args, const std::string& name,
                                        bool take) {
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == name && i + 1 < args.size()) {
      std::string v = args[i + 1];
      if (take) args.erase(args.begin() + i, args.begin() + i + 2);
      return v;
    }
    if (args[i].rfind(name + "=", 0) == 0) {
      std::string v = args[i].substr(name.size() + 1);
      if (take) args.erase(args.begin() + i);
      return v;
    }
  }
  return std::nullopt;
}

bool asks_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin() + 2, args.end(),
                     [](const std::string& a) { return a == "--help" || a == "-h"; });
}

// The verbs of a method: train, sample, eval and its own.
std::vector<std::string> verbs_of(const std::string& method) {
  std::vector<std::string> v = {"train", "sample", "eval", "compare-precision"};
  for (auto& verb : methods::make_method(method)->verbs()) v.push_back(verb.name);
  return v;
}

}  // namespace

bool is_method_verb(const std::string& verb) {
  return std::find(kMethodVerbs.begin(), kMethodVerbs.end(), verb) != kMethodVerbs.end();
}

std::vector<std::string> place_method(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  if (args.size() < 2) return args;
  const std::string verb = args[1];
  std::optional<std::string> method = option_value(args, "--method", true);
  if (method) methods::make_method(*method);  // an unknown name lists the registered ones

  if (!is_method_verb(verb)) {
    // A method's own verb (reflow, ...): --method may only name a method that has it.
    if (method) {
      auto verbs = verbs_of(*method);
      FX_CHECK(std::find(verbs.begin(), verbs.end(), verb) != verbs.end(),
               "method '{}' has no verb '{}' (its verbs: {})", *method, verb,
               fmt::join(verbs, ", "));
    }
    return args;
  }
  if (args.size() > 2 && methods::has_method(args[2])) return args;  // already placed
  if (!method && (verb == "sample" || verb == "eval")) {
    if (auto run = option_value(args, "--run", false)) {
      nlohmann::json config = train::read_run_config(*run);
      FX_CHECK(config.contains("method") && config["method"].is_string(),
               "{}/config.json: no 'method' field (not a fluxion run folder?)", *run);
      method = config["method"].get<std::string>();
      FX_CHECK(methods::has_method(*method),
               "{}/config.json: method '{}' is not registered (registered: {})", *run, *method,
               fmt::join(methods::method_names(), ", "));
    }
  }
  if (!method && (verb == "train" || verb == "compare-precision") &&
      !(asks_help(args) && args.size() == 3))
    method = kDefaultMethod;
  if (method) args.insert(args.begin() + 2, *method);
  return args;
}

}  // namespace fx::cli
