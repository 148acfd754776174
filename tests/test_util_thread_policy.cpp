// The OpenMP wait policy default: apply_thread_policy re-executes the program with
// GOMP_SPINCOUNT set when the user chose nothing, and leaves a user's choice alone. The
// re-executed process is this test binary, running only ThreadPolicy.ChildReport.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "fluxion/util/thread_policy.h"

namespace {

// Runs apply_thread_policy in a forked child with the given variables; returns the child's
// exit code: 10 = ChildReport saw one of the defaults (re-exec happened), 20 = no re-exec.
int run_child(const char* wait_policy, const char* spincount) {
  pid_t pid = ::fork();
  if (pid == 0) {
    wait_policy ? ::setenv("OMP_WAIT_POLICY", wait_policy, 1) : ::unsetenv("OMP_WAIT_POLICY");
    spincount ? ::setenv("GOMP_SPINCOUNT", spincount, 1) : ::unsetenv("GOMP_SPINCOUNT");
    ::setenv("FLUXION_THREAD_POLICY_CHILD", "1", 1);
    char prog[] = "fluxion_tests", filter[] = "--gtest_filter=ThreadPolicy.ChildReport";
    char* argv[] = {prog, filter, nullptr};
    fx::util::apply_thread_policy(argv);
    ::_exit(20);  // returned: no re-exec
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(ThreadPolicy, ChildReport) {
  if (!std::getenv("FLUXION_THREAD_POLICY_CHILD")) GTEST_SKIP() << "runs only as a child";
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  const char* wait = std::getenv("OMP_WAIT_POLICY");
  const bool spin_default = spin && std::string(spin) == "3000" && !wait;
  const bool passive_default = wait && std::string(wait) == "passive" && !spin;
  std::_Exit(spin_default || passive_default ? 10 : 30);
}

TEST(ThreadPolicy, PassiveOnlyWhenTheMachineIsAlreadyBusy) {
  EXPECT_EQ(fx::util::default_wait_setting(0.3, 8), "GOMP_SPINCOUNT=3000");
  EXPECT_EQ(fx::util::default_wait_setting(7.9, 8), "GOMP_SPINCOUNT=3000");
  EXPECT_EQ(fx::util::default_wait_setting(8.0, 8), "OMP_WAIT_POLICY=passive");
  EXPECT_EQ(fx::util::default_wait_setting(14.2, 2), "OMP_WAIT_POLICY=passive");
}

TEST(ThreadPolicy, DefaultsTheSpinCountByReexecuting) {
  EXPECT_EQ(run_child(nullptr, nullptr), 10);
}

TEST(ThreadPolicy, LeavesTheUsersChoiceAlone) {
  EXPECT_EQ(run_child("active", nullptr), 20);
  EXPECT_EQ(run_child(nullptr, "300000"), 20);
}

}  // namespace
