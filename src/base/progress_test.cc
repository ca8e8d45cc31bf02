#include "base/progress.h"

#include <gtest/gtest.h>

namespace moat {
namespace {

TEST(ProgressTest, RendersABarWithShareAndCounts) {
  EXPECT_EQ(Progress::Render("reading", 9, 20, 20), "reading [#########-----------]  45%  9/20");
  EXPECT_EQ(Progress::Render("reading", 0, 3, 3), "reading [---]   0%  0/3");
  EXPECT_EQ(Progress::Render("reading", 3, 3, 3), "reading [###] 100%  3/3");
  EXPECT_EQ(Progress::Render("reading", 7, 3, 3), "reading [###] 100%  7/3");  // never past the end
  EXPECT_EQ(Progress::Render("loading", 12, 0, 4), "loading [----] 12");       // no total known
}

TEST(ProgressTest, NotWantedWithQuiet) { EXPECT_FALSE(ProgressWanted(true)); }

}  // namespace
}  // namespace moat
