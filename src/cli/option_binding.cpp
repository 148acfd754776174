#include "option_binding.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "fluxion/core/error.h"

namespace fx::cli {

namespace {

template <typename Int>
Int parse_integer(const std::string& name, const std::string& text) {
  Int v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  FX_CHECK(ec != std::errc::result_out_of_range, "--{}: {} is out of range ({} to {})", name, text,
           std::numeric_limits<Int>::min(), std::numeric_limits<Int>::max());
  FX_CHECK(ec == std::errc() && end == text.data() + text.size() && !text.empty(),
           "--{}: '{}' is not an integer", name, text);
  return v;
}

}  // namespace

void parse_option_value(const train::Option& o, const std::string& text) {
  std::visit(
      [&](auto* p) {
        using T = std::remove_pointer_t<decltype(p)>;
        if constexpr (std::is_same_v<T, bool>) {
          if (text.empty() || text == "true" || text == "1" || text == "on")
            *p = true;
          else if (text == "false" || text == "0" || text == "off")
            *p = false;
          else
            fail("--{}: '{}' is not true or false", o.name, text);
        } else if constexpr (std::is_same_v<T, std::string>) {
          *p = text;
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>>) {
          p->clear();  // "1,2,2"
          std::string item;
          for (std::istringstream in(text); std::getline(in, item, ',');)
            p->push_back(parse_integer<int64_t>(o.name, item));
        } else if constexpr (std::is_same_v<T, double>) {
          char* end = nullptr;
          errno = 0;
          double v = std::strtod(text.c_str(), &end);
          FX_CHECK(!text.empty() && end == text.c_str() + text.size(), "--{}: '{}' is not a number",
                   o.name, text);
          FX_CHECK(errno != ERANGE || v == 0, "--{}: {} is out of range", o.name, text);
          *p = v;
        } else {
          *p = parse_integer<T>(o.name, text);
        }
      },
      o.target);
}

void bind_options(CLI::App* app, train::OptionSet& set) {
  for (train::Option& o : set.options()) {
    std::string flags = "--" + o.name;
    if (!o.short_name.empty()) flags = "-" + o.short_name + "," + flags;
    const train::Option* opt = &o;
    CLI::Option* c = app->add_option(
        flags,
        [opt](const CLI::results_t& r) {
          parse_option_value(*opt, r.empty() ? std::string() : r.back());
          return true;
        },
        o.help);
    nlohmann::json value = o.get();
    std::string def = value.is_string() ? value.get<std::string>() : value.dump();
    if (value.is_array())
      def = fmt::format("{}", fmt::join(value.get<std::vector<int64_t>>(), ","));
    if (std::holds_alternative<bool*>(o.target)) {
      // --compile, or --precision-measure false. No default string: CLI11 would take it as
      // the value of a bare --compile.
      c->expected(0, 1);
      c->description(o.help + (def == "true" ? " (default: true)" : ""));
    } else {
      c->default_str(def);
      c->type_name(std::string(" ") + (std::holds_alternative<std::string*>(o.target) ? "TEXT"
                                       : std::holds_alternative<double*>(o.target)    ? "NUMBER"
                                                                                      : "INT"));
    }
  }
}

}  // namespace fx::cli
