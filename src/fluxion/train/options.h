// Declared options: each method binds its settings (data, model size, solver, ...) to named
// options once, and the same declaration drives the command line (src/cli maps it to CLI11),
// config.json (to_json / from_json) and the resume check. A method never writes its own
// option block, config reader or argv check.
//   OptionSet o;
//   o.add("hidden", hidden_, "width of the hidden layers");
//   o.add("data", data_, "built-in data set or a .csv/.npy file");
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "fluxion/core/error.h"

namespace fx::train {

struct Option {
  std::string name;  // without dashes, words joined by '-': "ode-steps"
  std::string help;
  std::variant<int64_t*, double*, std::string*, bool*, uint64_t*, std::vector<int64_t>*> target;
  bool in_config = true;   // false: how, not what (e.g. --compile); not written to config.json
  std::string short_name;  // optional one-letter alias, e.g. "n"
  nlohmann::json get() const;
  // Sets the value from JSON; throws fx::Error naming `where`, the field and the value when the
  // type does not fit or an integer is out of range.
  void set(const nlohmann::json& v, const std::string& where);
  const char* type_name() const;  // "integer", "number", "text", "true/false", "integer list"
};

class OptionSet {
 public:
  template <typename T>
  Option& add(const std::string& name, T& target, const std::string& help) {
    // Two declarations of one name would leave the second silently unread.
    FX_CHECK(find(name) == nullptr,
             "option --{} is declared twice (a method's option clashes "
             "with a shared one or with another of its own)",
             name);
    options_.push_back(Option{name, help, &target, true, {}});
    return options_.back();
  }
  const std::vector<Option>& options() const { return options_; }
  std::vector<Option>& options() { return options_; }
  const Option* find(const std::string& name) const;

  // {"hidden": 256, "data": "moons", ...} for the options with in_config; keys use '_'.
  nlohmann::json to_json() const;
  // Reads every key of j that names an option; keys that name none are an error naming the
  // file and the key (a config of another method or version) unless ignore_unknown.
  void from_json(const nlohmann::json& j, const std::string& file, bool ignore_unknown = false);

 private:
  std::vector<Option> options_;
};

// "ode-steps" -> "ode_steps" (the JSON key of an option).
std::string json_key(const std::string& option_name);

}  // namespace fx::train
