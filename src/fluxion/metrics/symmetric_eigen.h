// Eigen-decomposition of a small dense symmetric matrix by cyclic Jacobi rotations.
// Written here rather than linking LAPACK: the feature covariances it serves are 64×64,
// where Jacobi is exact to rounding and fast, and LAPACK would bring OpenBLAS's own thread
// pool into a process whose GEMMs run on oneDNN's OpenMP.
#pragma once
#include <cstdint>
#include <vector>

namespace fx::metrics {

struct SymmetricEigen {
  std::vector<double> values;   // n eigenvalues, ascending
  std::vector<double> vectors;  // n×n row-major; column j is the eigenvector of values[j]
};

// a: n×n row-major, symmetric (only read as given; asymmetry is not checked beyond 1e-9
// relative, which throws).
SymmetricEigen symmetric_eigen(const std::vector<double>& a, int64_t n);

// f(A) = V diag(f(λ)) Vᵀ for the square root, with negative round-off eigenvalues as 0.
std::vector<double> symmetric_sqrt(const std::vector<double>& a, int64_t n);

}  // namespace fx::metrics
