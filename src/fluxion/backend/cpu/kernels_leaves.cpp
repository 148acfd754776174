// Leaves that compute something: iota and Philox random numbers.
#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::cpu {

namespace {

Tensor constant_kernel(const Node& n, std::span<const Tensor>) { return n.attrs.literal; }

Tensor iota_kernel(const Node& n, std::span<const Tensor>) {
  int axis = (int)n.attrs.axes[0];
  int64_t total = numel(n.shape), inner = 1;
  for (size_t i = axis + 1; i < n.shape.size(); ++i) inner *= n.shape[i];
  int64_t len = n.shape[axis];
  std::vector<double> v(total);
  for (int64_t i = 0; i < total; ++i) v[i] = (double)((i / inner) % len);
  return Tensor::from(v, n.shape, n.dtype);
}

template <bool Normal>
Tensor random_kernel(const Node& n, std::span<const Tensor> in) {
  const int64_t* key = in[0].data<int64_t>();
  uint64_t seed = (uint64_t)key[0], offset = (uint64_t)key[1];
  int64_t count = numel(n.shape);
  if (n.dtype == DType::f64) {
    Tensor out(n.shape, DType::f64);
    if (Normal)
      philox_normal(seed, offset, out.data<double>(), count);
    else
      philox_uniform(seed, offset, out.data<double>(), count);
    return out;
  }
  Tensor out(n.shape, DType::f32);
  if (Normal)
    philox_normal(seed, offset, out.data<float>(), count);
  else
    philox_uniform(seed, offset, out.data<float>(), count);
  return n.dtype == DType::f32 ? out : out.to(n.dtype);
}

}  // namespace

void register_leaves(KernelTable& t) {
  t[(int)Op::constant] = constant_kernel;
  t[(int)Op::iota] = iota_kernel;
  t[(int)Op::random_uniform] = random_kernel<false>;
  t[(int)Op::random_normal] = random_kernel<true>;
}

}  // namespace fx::cpu
