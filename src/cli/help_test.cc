#include "cli/help.h"

#include <gtest/gtest.h>

namespace moat::cli {
namespace {

CommandInfo Sample() {
  CLI::App app("Compute the plan.", "moat plan");
  app.set_help_flag("-h,--help", "show this help");
  std::string policy, out;
  std::vector<std::string> sources;
  unsigned limit = 0;
  bool json = false;
  app.add_option("source", sources, "flow logs");
  app.add_option("--policy", policy, "pce, or a bundle file");
  app.add_option("--limit", limit, "responders shown");
  app.add_flag("--json", json, "print JSON");
  app.add_option("--not-grouped", out,
                 "a rather long description that goes on and on so that it has to wrap around "
                 "onto the next line of the help, indented under the first");
  return Describe(app, "plan");
}

TEST(HelpTest, DescribesOptionsWithTheirNamesGroupsAndPlaceholders) {
  const CommandInfo c = Sample();
  ASSERT_EQ(c.options.size(), 6u);
  EXPECT_EQ(c.options[0].flags, "-h, --help");
  EXPECT_EQ(c.options[0].names, (std::vector<std::string>{"-h", "--help"}));
  EXPECT_EQ(c.options[1].flags, "SOURCE...");
  EXPECT_EQ(c.options[1].group, "Arguments");
  EXPECT_TRUE(c.options[1].names.empty());
  EXPECT_EQ(c.options[2].flags, "--policy SRC");
  EXPECT_EQ(c.options[2].group, "Policy");
  EXPECT_EQ(c.options[3].flags, "--limit N");
  EXPECT_EQ(c.options[4].flags, "--json");
  EXPECT_EQ(c.options[4].group, "Output");
  EXPECT_EQ(c.options[5].group, "General");
}

TEST(HelpTest, RendersUsageGroupsExamplesAndExitStatus) {
  const HelpText* text = FindHelpText("plan");
  ASSERT_NE(text, nullptr);
  const std::string help = RenderHelp(Sample(), *text);
  EXPECT_TRUE(help.starts_with("Usage: moat plan [options]\n\nCompute the plan.\n")) << help;
  EXPECT_LT(help.find("\nArguments:\n"), help.find("\nPolicy:\n"));
  EXPECT_LT(help.find("\nPolicy:\n"), help.find("\nOutput:\n"));
  EXPECT_LT(help.find("\nOutput:\n"), help.find("\nGeneral:\n"));
  EXPECT_NE(help.find("  --policy SRC                pce, or a bundle file\n"), std::string::npos) << help;
  EXPECT_NE(help.find("\n                              around onto the next line"), std::string::npos) << help;
  EXPECT_NE(help.find("\nExamples:\n  # what apply would change"), std::string::npos);
  EXPECT_NE(help.find("\nExit status:\n  0  success"), std::string::npos);
  for (size_t start = 0, end; start < help.size(); start = end + 1) {
    end = help.find('\n', start);
    EXPECT_LE(end - start, 100u) << help.substr(start, end - start);
  }
}

TEST(HelpTest, EveryCommandHasExamplesAndExitStatus) {
  for (const HelpText& h : HelpTexts()) {
    EXPECT_NE(std::string(h.examples).find("moat "), std::string::npos) << h.path;
    EXPECT_TRUE(std::string(h.exit_status).starts_with("0 ")) << h.path;
    EXPECT_TRUE(std::string(h.usage).starts_with(h.path)) << h.path;
  }
  EXPECT_EQ(FindHelpText("nonesuch"), nullptr);
}

TEST(DidYouMeanTest, SuggestsTheNearestNameOfATypo) {
  const std::vector<std::string> options = {"--policy", "--policy-version", "--target", "--json"};
  EXPECT_EQ(DidYouMean("--polcy", options), "--policy");
  EXPECT_EQ(DidYouMean("--targte", options), "--target");
  EXPECT_EQ(DidYouMean("--jsno", options), "--json");
  EXPECT_EQ(DidYouMean("--frobnicate", options), "");
  const std::vector<std::string> commands = {"plan", "apply", "map", "pce"};
  EXPECT_EQ(DidYouMean("plna", commands), "plan");
  EXPECT_EQ(DidYouMean("aply", commands), "apply");
  EXPECT_EQ(DidYouMean("zzz", commands), "");
}

TEST(ScriptsTest, CompletionsAndManPageNameEveryCommandAndOption) {
  const std::vector<CommandSummary> top = {{"plan", "compute the plan", {}}, {"pce", "work with a PCE", {"sync"}}};
  CommandInfo sync{
      "pce sync", "Model the databases in the PCE.", {{"--plan", {"--plan"}, "only show the plan", "Output"}}};
  const std::vector<CommandInfo> commands = {Sample(), sync};
  const std::string bash = RenderBashCompletion(top, commands);
  EXPECT_NE(bash.find("compgen -W 'plan pce'"), std::string::npos) << bash;
  EXPECT_NE(bash.find("pce) COMPREPLY=($(compgen -W 'sync'"), std::string::npos) << bash;
  EXPECT_NE(bash.find("\"pce sync\") opts='--plan'"), std::string::npos) << bash;
  EXPECT_NE(bash.find("--not-grouped"), std::string::npos);
  EXPECT_NE(bash.find("complete -o filenames -o bashdefault -F _moat moat"), std::string::npos);
  const std::string zsh = RenderZshCompletion(top, commands);
  EXPECT_TRUE(zsh.starts_with("#compdef moat\n"));
  EXPECT_NE(zsh.find("'pce:work with a PCE'"), std::string::npos) << zsh;
  EXPECT_NE(zsh.find("'--policy:pce, or a bundle file'"), std::string::npos) << zsh;
  const std::string man = RenderManPage(top, commands, "1.2.3");
  EXPECT_TRUE(man.starts_with(".TH MOAT 1 \"\" \"moat 1.2.3\"")) << man;
  EXPECT_NE(man.find(".SS \"moat plan [options]\""), std::string::npos) << man;
  EXPECT_NE(man.find(".SS \"moat pce sync [options]\""), std::string::npos) << man;
  EXPECT_NE(man.find(".B \\-\\-policy SRC\n"), std::string::npos) << man;
  EXPECT_NE(man.find(".SH EXIT STATUS\n"), std::string::npos);
  EXPECT_NE(man.find(".SH ENVIRONMENT\n"), std::string::npos);
  EXPECT_EQ(man.find("\n\\&.SH"), std::string::npos);
}

}  // namespace
}  // namespace moat::cli
