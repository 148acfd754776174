// The safetensors format, byte-compatible with the reference writer (huggingface/safetensors),
// so PyTorch's `safetensors` package loads fluxion files and fluxion loads theirs:
//   [8-byte little-endian N][N bytes of JSON header, space-padded to a multiple of 8][data]
//   header = {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets"}, ...}
// Like the reference writer, tensors are laid out by dtype in the order I64, F64, F32, I32, BF16,
// F16, BOOL (its enum, descending), then by name, so every tensor starts aligned to its element
// size; header keys follow the data order, after "__metadata__". The reader accepts any order.
//
// The parser trusts nothing (it is fuzzed, see fuzz/): every size, offset, dtype and JSON key
// is checked, and a bad file gives an fx::Error naming the file, the tensor, the field and
// the value. Data offsets must tile the data buffer exactly: no overlaps, holes or trailing
// bytes. BOOL bytes must be 0 or 1.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "fluxion/core/tensor.h"

namespace fx::io {

struct SafetensorsFile {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

// Headers above this are refused as absurd (the reference reader's limit too).
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// "F32", "BF16", "BOOL", ...: the format's dtype names.
std::string_view safetensors_dtype_name(DType d);

// The complete file contents.
std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata = {});
// Atomic (see atomic_file.h): an existing file is replaced only once the new one is complete.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// name_for_errors is how messages refer to the bytes (usually the file path).
SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, std::string_view name_for_errors);
SafetensorsFile load_safetensors(const std::string& path);

}  // namespace fx::io
