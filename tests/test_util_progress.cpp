// Progress bar formatting (rate, ETA, fields) and the log-mode line policy; no timing.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "fluxion/util/progress.h"

namespace {

using namespace fx::util;

TEST(Progress, RateAndDuration) {
  EXPECT_EQ(format_rate(312.44), "312.4 it/s");
  EXPECT_EQ(format_rate(0.4), "2.50 s/it");
  EXPECT_EQ(format_rate(0), "? it/s");
  EXPECT_EQ(format_rate(NAN), "? it/s");
  EXPECT_EQ(format_duration(12.4), "00:12");
  EXPECT_EQ(format_duration(59 * 60 + 59), "59:59");
  EXPECT_EQ(format_duration(3600), "1:00:00");
  EXPECT_EQ(format_duration(3 * 3600 + 62), "3:01:02");
  EXPECT_EQ(format_duration(-1), "--:--");
  EXPECT_EQ(format_duration(INFINITY), "--:--");
}

TEST(Progress, Line) {
  // 1250 of 5000 in 4 s: 312.5 it/s, 3750 left -> 12 s.
  EXPECT_EQ(format_progress("train", 1250, 5000, 4.0, {{"loss", 0.0123}}),
            "train [#####...............] 1250/5000 25% 312.5 it/s ETA 00:12 loss 0.0123");
  EXPECT_EQ(format_progress("x", 0, 10, 0.0), "x [....................] 0/10 0% ? it/s ETA --:--");
  EXPECT_EQ(format_progress("x", 10, 10, 2.0, {{"a", 1e-5}, {"b", 12345.678}}),
            "x [####################] 10/10 100% 5.0 it/s ETA 00:00 a 1e-05 b 1.235e+04");
  EXPECT_EQ(format_progress("gen", 30, 0, 10.0), "gen 30 3.0 it/s elapsed 00:10");
}

TEST(Progress, LogModePrintsFirstAndFinalLinesOnly) {
  FILE* f = std::tmpfile();
  {
    ProgressOptions o;
    o.out = f;
    o.tty = 0;
    o.line_interval_s = 3600;  // nothing in between within this test
    Progress p("job", 100, o);
    for (int i = 1; i <= 100; ++i) p.update(i, {{"loss", 1.0 / i}});
    p.finish();
  }
  std::rewind(f);
  char buf[4096] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string out(buf, n);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("job [....................] 1/100 1%"), std::string::npos) << out;
  EXPECT_NE(out.find("100/100 100%"), std::string::npos) << out;
  EXPECT_NE(out.find("loss 0.01\n"), std::string::npos) << out;
}

TEST(Progress, TerminalModeRedrawsInPlaceAndEndsTheLine) {
  FILE* f = std::tmpfile();
  {
    ProgressOptions o;
    o.out = f;
    o.tty = 1;
    Progress p("t", 5, o);
    p.update(1);
  }  // destroyed unfinished: the line is still ended
  std::rewind(f);
  char buf[512] = {};
  std::string out(buf, std::fread(buf, 1, sizeof buf - 1, f));
  std::fclose(f);
  EXPECT_EQ(out.rfind("\rt [####", 0), 0u) << out;
  EXPECT_NE(out.find("\033[K"), std::string::npos);
  EXPECT_EQ(out.back(), '\n');
}

}  // namespace
