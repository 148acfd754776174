// A Tensor is a dense, contiguous, row-major array with shared storage. Storage is
// 64-byte aligned (one AVX-512 vector / cache line). Tensors are values: ops never
// mutate their inputs; only executors write into freshly allocated outputs.
#pragma once
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "fluxion/core/dtype.h"
#include "fluxion/core/shape.h"

namespace fx {

enum class Device : uint8_t { cpu };

struct Storage {
  void* data = nullptr;
  size_t bytes = 0;
  Device device = Device::cpu;
  explicit Storage(size_t bytes, Device dev = Device::cpu);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

class Tensor {
 public:
  Tensor() = default;
  Tensor(Shape shape, DType dtype, Device dev = Device::cpu);  // uninitialised

  static Tensor zeros(Shape shape, DType dtype = DType::f32);
  static Tensor full(Shape shape, double value, DType dtype = DType::f32);
  static Tensor scalar(double value, DType dtype = DType::f32);
  // Copies host values of type T (float, double, int32_t, int64_t, bool as uint8_t) and
  // converts them to dtype.
  static Tensor from(const std::vector<double>& values, Shape shape, DType dtype = DType::f32);
  static Tensor from_f32(const std::vector<float>& values, Shape shape);

  bool defined() const { return storage_ != nullptr; }
  // How many tensors share this one's storage: 1 means no one else can see a write into it
  // (the compiled executor writes a donated input's update in place only then).
  long storage_use_count() const { return storage_.use_count(); }
  const Shape& shape() const { return shape_; }
  int rank() const { return (int)shape_.size(); }
  int64_t dim(int i) const { return shape_.at(i < 0 ? i + rank() : i); }
  DType dtype() const { return dtype_; }
  Device device() const { return storage_ ? storage_->device : Device::cpu; }
  int64_t numel() const { return fx::numel(shape_); }
  size_t nbytes() const { return numel() * dtype_size(dtype_); }

  void* raw() { return storage_ ? static_cast<char*>(storage_->data) + offset_ : nullptr; }
  const void* raw() const {
    return storage_ ? static_cast<const char*>(storage_->data) + offset_ : nullptr;
  }
  template <typename T>
  T* data() {
    return static_cast<T*>(raw());
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(raw());
  }

  // Same storage, new shape (numel must match). Cheap; used for reshape.
  Tensor reshaped(Shape s) const;
  // Same storage reinterpreted as shape s of dtype d from byte_offset on (a multiple of 64,
  // keeping the alignment), which must fit in it. Lets an executor place values in an arena
  // it planned and reuses (the compiler's memory planner).
  Tensor view_as(Shape s, DType d, size_t byte_offset = 0) const;
  Tensor clone() const;
  Tensor to(DType d) const;  // converting copy

  // Host access as doubles: convenient in tests and metrics, not for hot loops.
  std::vector<double> to_vector() const;
  std::vector<float> to_f32_vector() const;
  double item() const;  // single-element tensors
  double at(int64_t flat_index) const;

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;  // bytes into the storage (views into an executor's arena)
  Shape shape_;
  DType dtype_ = DType::f32;
};

// Element-wise conversion between any two dtypes (float->int truncates toward zero as
// in C and PyTorch; ->bool is != 0).
void convert(const void* src, DType sd, void* dst, DType dd, int64_t n);

}  // namespace fx
