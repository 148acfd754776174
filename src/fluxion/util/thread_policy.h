// How OpenMP threads wait between parallel regions. libgomp's idle threads spin (300,000 polls)
// before sleeping, so the next region starts fast on an idle machine. When other processes
// want the same cores, a spinning thread burns the time slice that a thread with real work
// needed, and every region waits for its slowest thread: a training run went 27x slower under
// load (issue #17). libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, while it is loaded
// (before main() and before our static initializers), so changing the default means setting
// the variable and starting the program again. Measurements: docs/reliability.md.
#pragma once
#include <string>

namespace fx::util {

// The setting fluxion starts with when the user chose none: "OMP_WAIT_POLICY=passive" if the
// machine is already busy (1-minute load average >= cpus), else a short spin,
// "GOMP_SPINCOUNT=3000", as fast as libgomp's default when the cores are free.
std::string default_wait_setting(double load_average, int cpus);

// Call first thing in main(), before anything runs an OpenMP region. If neither
// OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set, sets default_wait_setting(now) and re-executes
// /proc/self/exe with the same arguments, so libgomp starts with it. Returns without doing
// anything when either variable is set (by the user, or by this function before the re-exec);
// if the exec fails, returns and the run keeps libgomp's defaults.
void apply_thread_policy(char** argv);

}  // namespace fx::util
