#include <omp.h>

#include "fluxion/backend/backend.h"
#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

namespace fx {

namespace cpu {

void parallel_for(int64_t n, int64_t grain, void (*fn)(int64_t, int64_t, void*), void* ctx) {
  int threads = omp_get_max_threads();
  int64_t chunks = std::min<int64_t>(threads, n / std::max<int64_t>(grain, 1));
  if (chunks <= 1 || omp_in_parallel()) {
    if (n > 0) fn(0, n, ctx);
    return;
  }
#pragma omp parallel for num_threads(chunks) schedule(static, 1)
  for (int64_t c = 0; c < chunks; ++c) fn(n * c / chunks, n * (c + 1) / chunks, ctx);
}

namespace {

class CpuBackend final : public Backend {
 public:
  CpuBackend() {
    table_.fill(nullptr);
    register_elementwise(table_);
    register_reduce(table_);
    register_layout(table_);
    register_matmul(table_);
    register_indexing(table_);
    register_leaves(table_);
    register_scan(table_);
    register_conv(table_);
  }
  const char* name() const override { return "cpu"; }
  bool supports(const Node& n) const override { return table_[(int)n.op] != nullptr; }
  Tensor execute(const Node& n, std::span<const Tensor> in) override {
    Kernel k = table_[(int)n.op];
    FX_CHECK(k, "cpu backend: no kernel for op {}", op_name(n.op));
    return k(n, in);
  }

 private:
  KernelTable table_;
};

}  // namespace
}  // namespace cpu

Backend& cpu_backend() {
  static cpu::CpuBackend b;
  return b;
}

}  // namespace fx
