#include "fluxion/train/options.h"

#include <algorithm>
#include <limits>

#include "fluxion/core/error.h"

namespace fx::train {

using json = nlohmann::json;

std::string json_key(const std::string& option_name) {
  std::string k = option_name;
  std::replace(k.begin(), k.end(), '-', '_');
  return k;
}

json Option::get() const {
  return std::visit([](auto* p) { return json(*p); }, target);
}

const char* Option::type_name() const {
  struct {
    const char* operator()(int64_t*) { return "integer"; }
    const char* operator()(uint64_t*) { return "non-negative integer"; }
    const char* operator()(double*) { return "number"; }
    const char* operator()(std::string*) { return "text"; }
    const char* operator()(bool*) { return "true/false"; }
    const char* operator()(std::vector<int64_t>*) { return "a list of integers"; }
  } names;
  return std::visit(names, target);
}

namespace {
std::string brief(const json& v) {
  std::string s = v.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}
}  // namespace

void Option::set(const json& v, const std::string& where) {
  auto bad = [&]() {
    fail("{}: field '{}' must be {}, got {}", where, json_key(name), type_name(), brief(v));
  };
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) {
          if (!v.is_boolean()) bad();
          *p = v.get<bool>();
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (!v.is_string()) bad();
          *p = v.get<std::string>();
        } else if constexpr (std::is_same_v<T, double>) {
          if (!v.is_number()) bad();
          *p = v.get<double>();
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          if (!v.is_array()) bad();
          for (auto& e : v)
            if (!e.is_number_integer()) bad();
          *p = v.get<std::vector<int64_t>>();
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (!v.is_number_unsigned()) bad();
          *p = v.get<uint64_t>();
        } else {
          // JSON integers above 2^63 arrive unsigned; anything else is not an integer.
          if (v.is_number_unsigned() && v.get<uint64_t>() > (uint64_t)INT64_MAX) bad();
          if (!v.is_number_integer()) bad();
          *p = v.get<int64_t>();
        }
      },
      target);
}

const Option* OptionSet::find(const std::string& name) const {
  for (auto& o : options_)
    if (o.name == name || json_key(o.name) == name) return &o;
  return nullptr;
}

json OptionSet::to_json() const {
  json j = json::object();
  for (auto& o : options_)
    if (o.in_config) j[json_key(o.name)] = o.get();
  return j;
}

void OptionSet::from_json(const json& j, const std::string& file, bool ignore_unknown) {
  FX_CHECK(j.is_object(), "{}: expected a JSON object, got {}", file, brief(j));
  for (auto& [key, value] : j.items()) {
    auto it = std::find_if(options_.begin(), options_.end(),
                           [&](const Option& o) { return json_key(o.name) == key; });
    if (it == options_.end() || !it->in_config) {
      FX_CHECK(ignore_unknown, "{}: unknown field '{}' (a config of another method or version?)",
               file, key);
      continue;
    }
    it->set(value, file);
  }
}

}  // namespace fx::train
