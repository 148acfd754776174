// Element types. Storage and compute are separate concerns: bf16/f16 are stored as
// 16-bit patterns and computed in f32 registers (see half.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fx {

enum class DType : uint8_t { f64, f32, bf16, f16, i32, i64, boolean };

size_t dtype_size(DType d);
std::string_view dtype_name(DType d);  // "f32", "bf16", ... (also safetensors-like names)
DType dtype_from_name(std::string_view name);  // throws fx::Error naming the value
bool is_float(DType d);
bool is_integer(DType d);

}  // namespace fx
