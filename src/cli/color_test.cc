#include "cli/color.h"

#include <gtest/gtest.h>

namespace moat::cli {
namespace {

TEST(ColorDiffTest, ColoursAddedRemovedChangedAndCutLines) {
  const std::string plan =
      "database orders-db\n"
      "  + group moat-orders-db-1 (to create)\n"
      "  ~ group sg-1 (moat-orders-db-1)\n"
      "      - tcp 5432 from 0.0.0.0/0\n"
      "      x 10.0.1.20        -> 10.0.2.45/5432\n"
      "  ! held: too many revokes\n";
  EXPECT_EQ(ColorDiff(plan),
            "database orders-db\n"
            "\033[32m  + group moat-orders-db-1 (to create)\033[0m\n"
            "\033[33m  ~ group sg-1 (moat-orders-db-1)\033[0m\n"
            "\033[31m      - tcp 5432 from 0.0.0.0/0\033[0m\n"
            "\033[31m      x 10.0.1.20        -> 10.0.2.45/5432\033[0m\n"
            "  ! held: too many revokes\n");
}

TEST(ColorDiffTest, LeavesWordsThatStartWithAMarkerAlone) {
  EXPECT_EQ(ColorDiff("xfer 3 flows\n--policy pce\n"), "xfer 3 flows\n--policy pce\n");
  EXPECT_EQ(ColorDiff(""), "");
  EXPECT_EQ(ColorDiff("  +"), "\033[32m  +\033[0m");
}

TEST(WantColorTest, OnlyOnATerminalWithoutJsonNoColorOrDumbTerminal) {
  EXPECT_TRUE(WantColor(false, false, nullptr, "xterm-256color", true));
  EXPECT_TRUE(WantColor(false, false, "", nullptr, true));  // NO_COLOR set but empty does not count
  EXPECT_FALSE(WantColor(false, false, nullptr, "xterm", false));
  EXPECT_FALSE(WantColor(true, false, nullptr, "xterm", true));
  EXPECT_FALSE(WantColor(false, true, nullptr, "xterm", true));
  EXPECT_FALSE(WantColor(false, false, "1", "xterm", true));
  EXPECT_FALSE(WantColor(false, false, nullptr, "dumb", true));
}

}  // namespace
}  // namespace moat::cli
