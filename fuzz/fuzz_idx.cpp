// libFuzzer target for the IDX (and gzip) reader behind Fashion-MNIST (see README.md). Any input
// must either parse or throw fx::Error. What parses must be self-consistent: the values hold
// exactly product(dims) bytes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fluxion/core/error.h"
#include "fluxion/data/idx_file.h"
#include "fluxion/io/gzip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  try {
    std::string inflated;
    if (fx::io::is_gzip(bytes)) {
      inflated = fx::io::gunzip(bytes, "fuzz.gz", size_t{1} << 24);
      bytes = {reinterpret_cast<const uint8_t*>(inflated.data()), inflated.size()};
    }
    const fx::data::IdxArray a = fx::data::parse_idx(bytes, "fuzz.idx");
    uint64_t n = 1;
    for (int64_t d : a.dims) n *= uint64_t(d);
    if (n != a.values.size()) {
      std::fprintf(stderr, "fuzz_idx: %zu values for dims of product %llu\n", a.values.size(),
                   (unsigned long long)n);
      std::abort();
    }
  } catch (const fx::Error&) {
  }
  return 0;
}
