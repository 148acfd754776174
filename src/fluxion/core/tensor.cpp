#include "fluxion/core/tensor.h"

#include <cstdlib>

#include "fluxion/core/error.h"
#include "fluxion/core/half.h"
#include "fluxion/core/storage_pool.h"

namespace fx {

Storage::Storage(size_t nbytes, Device dev) : bytes(nbytes), device(dev) {
  data = pool_allocate(nbytes);
}
Storage::~Storage() { pool_release(data, bytes); }

Tensor::Tensor(Shape shape, DType dtype, Device dev) : shape_(std::move(shape)), dtype_(dtype) {
  for (int64_t d : shape_) FX_CHECK(d >= 0, "negative extent in shape {}", shape_str(shape_));
  FX_CHECK(numel() <= INT64_MAX / (int64_t)dtype_size(dtype_),
           "shape {} of {} is too large: its byte size overflows int64", shape_str(shape_),
           dtype_name(dtype_));
  storage_ = std::make_shared<Storage>(nbytes(), dev);
}

Tensor Tensor::zeros(Shape shape, DType dtype) {
  Tensor t(std::move(shape), dtype);
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

Tensor Tensor::full(Shape shape, double value, DType dtype) {
  Tensor t(std::move(shape), dtype);
  int64_t n = t.numel();
  std::vector<double> v(n, value);
  convert(v.data(), DType::f64, t.raw(), dtype, n);
  return t;
}

Tensor Tensor::scalar(double value, DType dtype) { return full({}, value, dtype); }

Tensor Tensor::from(const std::vector<double>& values, Shape shape, DType dtype) {
  Tensor t(std::move(shape), dtype);
  FX_CHECK((int64_t)values.size() == t.numel(), "Tensor::from: {} values for shape {}",
           values.size(), shape_str(t.shape()));
  convert(values.data(), DType::f64, t.raw(), dtype, t.numel());
  return t;
}

Tensor Tensor::from_f32(const std::vector<float>& values, Shape shape) {
  Tensor t(std::move(shape), DType::f32);
  FX_CHECK((int64_t)values.size() == t.numel(), "Tensor::from_f32: {} values for shape {}",
           values.size(), shape_str(t.shape()));
  std::memcpy(t.raw(), values.data(), t.nbytes());
  return t;
}

Tensor Tensor::reshaped(Shape s) const {
  FX_CHECK(fx::numel(s) == numel(), "reshape: cannot view {} as {}", shape_str(shape_),
           shape_str(s));
  Tensor t = *this;
  t.shape_ = std::move(s);
  return t;
}

Tensor Tensor::view_as(Shape s, DType d, size_t byte_offset) const {
  FX_CHECK(storage_ && byte_offset % 64 == 0 &&
               offset_ + byte_offset + fx::numel(s) * dtype_size(d) <= storage_->bytes,
           "view_as: {}{} at byte {} does not fit in a buffer of {} bytes (offsets are 64-byte "
           "multiples)",
           dtype_name(d), shape_str(s), offset_ + byte_offset, storage_ ? storage_->bytes : 0);
  Tensor t = *this;
  t.offset_ += byte_offset;
  t.shape_ = std::move(s);
  t.dtype_ = d;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(shape_, dtype_);
  if (nbytes()) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

Tensor Tensor::to(DType d) const {
  if (d == dtype_) return clone();
  Tensor t(shape_, d);
  convert(raw(), dtype_, t.raw(), d, numel());
  return t;
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(numel());
  convert(raw(), dtype_, v.data(), DType::f64, numel());
  return v;
}

std::vector<float> Tensor::to_f32_vector() const {
  std::vector<float> v(numel());
  convert(raw(), dtype_, v.data(), DType::f32, numel());
  return v;
}

double Tensor::item() const {
  FX_CHECK(numel() == 1, "item(): tensor of shape {} has {} elements", shape_str(shape_), numel());
  return at(0);
}

double Tensor::at(int64_t i) const {
  FX_CHECK(i >= 0 && i < numel(), "at({}): out of range for {}", i, shape_str(shape_));
  double v;
  convert(static_cast<const char*>(raw()) + i * dtype_size(dtype_), dtype_, &v, DType::f64, 1);
  return v;
}

namespace {
template <typename T>
double load(const void* p, int64_t i) {
  return (double)static_cast<const T*>(p)[i];
}
double load_any(const void* p, DType d, int64_t i) {
  switch (d) {
    case DType::f64:
      return load<double>(p, i);
    case DType::f32:
      return load<float>(p, i);
    case DType::bf16:
      return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::f16:
      return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::i32:
      return load<int32_t>(p, i);
    case DType::i64:
      return load<int64_t>(p, i);
    case DType::boolean:
      return static_cast<const uint8_t*>(p)[i] ? 1.0 : 0.0;
  }
  return 0;
}
void store_any(void* p, DType d, int64_t i, double v) {
  switch (d) {
    case DType::f64:
      static_cast<double*>(p)[i] = v;
      break;
    case DType::f32:
      static_cast<float*>(p)[i] = (float)v;
      break;
    // Through f32 first: double->f32->bf16 is what PyTorch does for .to(bfloat16) of
    // f32 data, and the only case used on hot paths (see below).
    case DType::bf16:
      static_cast<uint16_t*>(p)[i] = f32_to_bf16((float)v);
      break;
    case DType::f16:
      static_cast<uint16_t*>(p)[i] = f32_to_f16((float)v);
      break;
    case DType::i32:
      static_cast<int32_t*>(p)[i] = (int32_t)v;
      break;
    case DType::i64:
      static_cast<int64_t*>(p)[i] = (int64_t)v;
      break;
    case DType::boolean:
      static_cast<uint8_t*>(p)[i] = v != 0.0;
      break;
  }
}
}  // namespace

void convert(const void* src, DType sd, void* dst, DType dd, int64_t n) {
  if (n == 0) return;
  if (sd == dd) {
    std::memcpy(dst, src, n * dtype_size(sd));
    return;
  }
  // Fast vectorised paths for the conversions mixed precision uses every step.
  auto f = [](const void* p) { return static_cast<const float*>(p); };
  auto h = [](const void* p) { return static_cast<const uint16_t*>(p); };
  if (sd == DType::f32 && dd == DType::bf16) return f32_to_bf16(f(src), (uint16_t*)dst, n);
  if (sd == DType::f32 && dd == DType::f16) return f32_to_f16(f(src), (uint16_t*)dst, n);
  if (sd == DType::bf16 && dd == DType::f32) return bf16_to_f32(h(src), (float*)dst, n);
  if (sd == DType::f16 && dd == DType::f32) return f16_to_f32(h(src), (float*)dst, n);
  for (int64_t i = 0; i < n; ++i) store_any(dst, dd, i, load_any(src, sd, i));
}

}  // namespace fx
