#!/usr/bin/env bash
# Installs the Debian 12 packages fluxion builds, tests and benchmarks with, then builds it.
# Each package is here for one job; see the commit that added it for why.
set -euo pipefail
PKGS=(build-essential cmake ninja-build pkg-config
      libdnnl-dev            # GEMM (ties OpenBLAS here), later conv and fused post-ops
      libfmt-dev nlohmann-json3-dev libcli11-dev libpng-dev
      libgtest-dev libgmock-dev libbenchmark-dev
      python3-torch python3-numpy    # PyTorch peer for fixtures and benchmarks
      libopenblas-dev                # without it Debian torch runs fp32 matmul at ~3 GFLOP/s
      zlib1g-dev                     # gunzip of the IDX files
      libgif-dev                     # animated GIFs of particle flows (--save-every)
      dataset-fashion-mnist          # images for DDPM, sequential Fashion-MNIST for the LRU
      libopenmpi-dev openmpi-bin)    # data-parallel training: mpirun -np N fluxion train
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# Without ccache (a fresh machine, CI) a unity build halves the clean build; with ccache,
# per-file objects rebuild faster after an edit.
BUILD_OPTS=(-DFLUXION_UNITY=ON)
command -v ccache >/dev/null && BUILD_OPTS=(-DFLUXION_UNITY=OFF -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${BUILD_OPTS[@]}" >/dev/null
cmake --build build -j"$(nproc)"
