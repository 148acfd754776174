#include "fluxion/backend/cpu/jit.h"

#include <dlfcn.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fluxion/core/error.h"

namespace fx::cpu {

namespace fs = std::filesystem;

namespace {

// Flags shared by every target: the reference kernels' flags (-O3, no errno, no traps) and
// no -ffast-math, so results match the interpreter bit for bit. -ffp-contract=off because
// AVX-512F itself carries FMA (zmm and, with VL, ymm/xmm): without it g++ contracts a*b+c on
// the avx512 target, and exp/sigmoid/sums round differently from the reference kernels.
const char* kCommonFlags =
    "-std=gnu++20 -O3 -fPIC -shared -fno-math-errno -fno-trapping-math -ffp-contract=off "
    "-fno-plt -w";

std::string compiler() {
  const char* c = std::getenv("FLUXION_CXX");
  return c && *c ? c : "g++";
}

uint64_t fnv(const std::string& s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Shell-quotes a path for the compiler command.
std::string q(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

}  // namespace

JitTarget detect_target() {
  const char* force = std::getenv("FLUXION_JIT_TARGET");
  std::string want = force ? force : "";
  __builtin_cpu_init();
  bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  // The avx2 target also needs FMA: vector_math.h's polynomials are explicit FMAs.
  bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // A forced target the CPU lacks is ignored (with a warning): never an illegal instruction.
  if ((want == "avx512" && !avx512) || (want == "avx2" && !avx2)) {
    std::fprintf(stderr, "fluxion compiler: FLUXION_JIT_TARGET=%s: this CPU lacks it, ignored\n",
                 want.c_str());
    want.clear();
  }
  // -mfma turns vector_math.h's explicit fmadd into vfmadd, as in the reference kernels'
  // x86-64-v3 clones; -ffp-contract=off (kCommonFlags) keeps every other a*b+c unfused.
  if (want == "avx512" || (want.empty() && avx512))
    return {"avx512", "-mavx512f -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma"};
  if (want == "avx2" || (want.empty() && avx2)) return {"avx2", "-mavx2 -mfma"};
  return {"x86-64", ""};
}

std::string kernel_cache_dir() {
  if (const char* d = std::getenv("FLUXION_CACHE_DIR"); d && *d) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return (fs::path(x) / "fluxion" / "kernels").string();
  const char* home = std::getenv("HOME");
  return (fs::path(home && *home ? home : "/tmp") / ".cache" / "fluxion" / "kernels").string();
}

SharedObject::~SharedObject() {
  if (handle_) dlclose(handle_);
}

void* SharedObject::symbol(const std::string& name) const { return dlsym(handle_, name.c_str()); }

JitResult jit_compile(const std::string& source, const JitTarget& target) {
  JitResult r;
  std::string cxx = compiler();
  std::string flags = std::string(kCommonFlags) + " " + target.flags;
  uint64_t key = fnv(source, fnv(cxx + "\n" + flags + "\n" + target.name));
  fs::path dir = kernel_cache_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    r.error = fmt::format("cannot create the kernel cache {}: {}", dir.string(), ec.message());
    return r;
  }
  std::string stem = fmt::format("fx_{:016x}_{}", key, target.name);
  fs::path so = dir / (stem + ".so");
  r.path = so.string();
  if (!fs::exists(so)) {
    // Unique temporary names, then rename: concurrent processes never load half a file.
    std::string tag = fmt::format("{}.{}", getpid(), (uint64_t)(uintptr_t)&r);
    fs::path cpp = dir / (stem + "." + tag + ".cpp");
    fs::path tmp = dir / (stem + "." + tag + ".so.tmp");
    fs::path log = dir / (stem + "." + tag + ".log");
    {
      std::ofstream f(cpp);
      f << source;
      if (!f) {
        r.error = "cannot write " + cpp.string();
        return r;
      }
    }
    std::string cmd = fmt::format("{} {} -o {} {} > {} 2>&1", cxx, flags, q(tmp.string()),
                                  q(cpp.string()), q(log.string()));
    auto t0 = std::chrono::steady_clock::now();
    int rc = std::system(cmd.c_str());
    r.compile_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    std::string out = read_all(log);
    fs::remove(log, ec);
    if (rc != 0 || !fs::exists(tmp)) {
      r.error = fmt::format("`{}` failed (exit {}): {}", cmd, rc, out.substr(0, 2000));
      fs::remove(cpp, ec);
      fs::remove(tmp, ec);
      return r;
    }
    fs::rename(cpp, dir / (stem + ".cpp"), ec);  // kept beside the object, for reading
    fs::rename(tmp, so, ec);
    if (ec) {
      r.error = fmt::format("cannot move {} to {}: {}", tmp.string(), so.string(), ec.message());
      return r;
    }
  } else {
    r.cache_hit = true;
  }
  void* h = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    r.error = fmt::format("dlopen {}: {}", so.string(), dlerror());
    return r;
  }
  r.object = std::make_shared<SharedObject>(h);
  return r;
}

}  // namespace fx::cpu
