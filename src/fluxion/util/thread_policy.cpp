#include "fluxion/util/thread_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace fx::util {

std::string default_wait_setting(double load_average, int cpus) {
  // Busy cores: a woken thread costs a few microseconds, a spinning one a time slice.
  if (cpus > 0 && load_average >= cpus) return "OMP_WAIT_POLICY=passive";
  return "GOMP_SPINCOUNT=3000";  // ~50 us: covers the gap between one op and the next
}

void apply_thread_policy(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return;
  double load = 0;
  if (::getloadavg(&load, 1) != 1) load = 0;
  const std::string setting = default_wait_setting(load, (int)::sysconf(_SC_NPROCESSORS_ONLN));
  const size_t eq = setting.find('=');
  if (::setenv(setting.substr(0, eq).c_str(), setting.substr(eq + 1).c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // Still here: no /proc (or no permission). The variable only reaches child processes.
}

}  // namespace fx::util
