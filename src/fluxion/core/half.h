// bf16 and IEEE f16 <-> f32 conversion, round to nearest even, NaN kept quiet.
// Scalar functions are the reference rule; the array versions are vectorised
// (F16C / AVX2 / AVX-512 picked at run time) and must agree bit for bit.
// Today half.cpp has an AVX2+F16C path and the scalar fallback; no AVX-512 path yet.
// The exact rule (NaN payloads, overflow and underflow boundaries) is written in half.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

namespace fx {

float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

void bf16_to_f32(const uint16_t* src, float* dst, size_t n);
void f32_to_bf16(const float* src, uint16_t* dst, size_t n);
void f16_to_f32(const uint16_t* src, float* dst, size_t n);
void f32_to_f16(const float* src, uint16_t* dst, size_t n);

}  // namespace fx
