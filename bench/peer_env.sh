# Sourced by the bench scripts: PyTorch's best settings on this machine, one place for all
# (../shared/peer/README.md). Debian's torch misdetects the CPU; pick the ISA it has.
# bench/run_all.sh measures the OpenBLAS core type instead of taking PEER_CORETYPE.
if grep -qw avx512f /proc/cpuinfo; then
  ATEN_CAP=avx512 PEER_CORETYPE=SkylakeX
else
  ATEN_CAP=avx2 PEER_CORETYPE=Haswell
fi
# glibc keeps freed blocks instead of unmapping/trimming them: torch allocates every
# activation afresh, and on a VM where page faults are dear (2026-12-06, AVX-512 Zen 5) that
# made its MLP step 7.9 ms against 6.1 and its U-Net step 395 against 290 ms (fluxion keeps
# its own buffer cache, core/storage_pool).
TORCH_MALLOC="GLIBC_TUNABLES=glibc.malloc.trim_threshold=1073741824:glibc.malloc.mmap_threshold=1073741824"
# peer_env THREADS [CORETYPE]: the settings as NAME=VALUE words, for `env $(peer_env 2) ...`.
# An empty CORETYPE (given as "") leaves OPENBLAS_CORETYPE unset: OpenBLAS auto-detects.
peer_env() {
  local core=${2-$PEER_CORETYPE}
  echo "ATEN_CPU_CAPABILITY=$ATEN_CAP OMP_NUM_THREADS=$1 OMP_WAIT_POLICY=PASSIVE $TORCH_MALLOC" \
    ${core:+OPENBLAS_CORETYPE=$core}
}
