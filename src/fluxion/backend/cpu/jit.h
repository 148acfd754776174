// Turns generated C++ into loaded machine code: the system compiler builds a shared
// object, dlopen loads it (as TorchInductor does on CPU). Objects are cached on disk by
// a hash of the source, the target and the compiler command, so a second run of the same
// program skips the compiler. No -march=native: the target is detected at run time and
// named in the cache key, so a cache shared between machines never loads code a CPU
// cannot run.
#pragma once
#include <memory>
#include <string>

namespace fx::cpu {

struct JitTarget {
  std::string name;   // "avx512", "avx2" or "x86-64"
  std::string flags;  // the -m flags for it
};
// The best target this CPU runs. FLUXION_JIT_TARGET=avx512|avx2|x86-64 picks a lower one
// (a target the CPU lacks is ignored with a warning).
JitTarget detect_target();

// $FLUXION_CACHE_DIR, else $XDG_CACHE_HOME/fluxion/kernels, else ~/.cache/fluxion/kernels.
std::string kernel_cache_dir();

class SharedObject {
 public:
  explicit SharedObject(void* handle) : handle_(handle) {}
  ~SharedObject();
  SharedObject(const SharedObject&) = delete;
  SharedObject& operator=(const SharedObject&) = delete;
  void* symbol(const std::string& name) const;  // nullptr if absent

 private:
  void* handle_;
};

struct JitResult {
  std::shared_ptr<SharedObject> object;  // null on failure
  std::string error;                     // why it failed (compiler output, dlopen error)
  bool cache_hit = false;
  double compile_ms = 0.0;  // compiler run time (0 on a cache hit)
  std::string path;         // the .so
};

// Compiles (or finds in the cache) and loads. Never throws for a compiler failure: the
// result carries the error and the caller falls back to the interpreter's kernels.
// The compiler is $FLUXION_CXX if set, else g++.
JitResult jit_compile(const std::string& source, const JitTarget& target);

}  // namespace fx::cpu
