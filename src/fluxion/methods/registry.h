// The registered methods, by name. Adding a method: one file in methods/ and one line in
// registry.cpp.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "fluxion/methods/method.h"

namespace fx::methods {

std::vector<std::string> method_names();
// A fresh instance; an unknown name is an error listing the registered ones.
std::unique_ptr<Method> make_method(const std::string& name);
bool has_method(const std::string& name);

}  // namespace fx::methods
