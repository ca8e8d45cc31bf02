// The command line as users meet it: one help format with examples and exit status for every
// command, usage and "did you mean" for mistakes, numeric options checked, shell completions and
// the man page from the same tables, what `cmake --install` installs, colour never on a pipe, and
// --region/--profile beside the AWS environment (against moto).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "moat_process.h"
#include "moto.h"

namespace moat::integration {
namespace {

const std::vector<std::string> kCommandPaths = {"flows",    "policy show", "plan",       "apply",
                                                "map",      "suggest",     "pce export", "pce upload-flows",
                                                "pce sync", "lambda",      "watch",      "completion"};
const std::vector<std::string> kTopCommands = {"flows", "policy", "plan",  "apply",      "map", "suggest",
                                               "pce",   "lambda", "watch", "completion", "help"};

std::vector<std::string> Words(const std::string& path) {
  std::vector<std::string> words;
  for (size_t start = 0; start <= path.size();) {
    const size_t space = std::min(path.find(' ', start), path.size());
    words.push_back(path.substr(start, space - start));
    start = space + 1;
  }
  return words;
}

bool Has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

class CliTest : public ::testing::Test {
 protected:
  RunResult Moat(const std::vector<std::string>& args, std::vector<std::pair<std::string, std::string>> env = {}) {
    RunOptions o;
    o.env = std::move(env);
    return RunProcess(MOAT_BINARY, args, o, dir_.path());
  }
  RunResult Help(const std::string& path) {
    std::vector<std::string> args = Words(path);
    args.push_back("--help");
    return Moat(args);
  }
  TempDir dir_;
};

TEST_F(CliTest, EveryCommandsHelpHasUsageOptionsExamplesAndExitStatus) {
  for (const std::string& path : kCommandPaths) {
    const RunResult r = Help(path);
    ASSERT_EQ(r.exit_code, 0) << path << "\n" << Describe(r);
    EXPECT_TRUE(r.out.starts_with("Usage: moat " + path)) << r.out;
    EXPECT_TRUE(Has(r.out, "\n  -h, --help ")) << path;
    EXPECT_TRUE(Has(r.out, "\nExamples:\n  ")) << path;
    EXPECT_TRUE(Has(r.out, "\nExit status:\n  0  ")) << path;
    EXPECT_TRUE(r.err.empty()) << path << ": " << r.err;
  }
  std::vector<std::string> help_plan = {"help", "plan"};
  EXPECT_EQ(Moat(help_plan).out, Help("plan").out);
}

TEST_F(CliTest, EachCommandsHelpListsOnlyItsOwnOptions) {
  const std::string map = Help("map").out;
  for (const char* own : {"--out FILE", "--plan", "--policy SRC", "--flows SOURCE", "--region REGION"}) {
    EXPECT_TRUE(Has(map, own)) << own << "\n" << map;
  }
  for (const char* other : {"--yes", "--mode", "--audit-log", "--detailed-exitcode", "--no-color", "--queue"}) {
    EXPECT_FALSE(Has(map, other)) << other << "\n" << map;
  }
  const std::string plan = Help("plan").out;
  EXPECT_TRUE(Has(plan, "--detailed-exitcode"));
  EXPECT_FALSE(Has(plan, "--yes"));
  EXPECT_TRUE(Has(Help("apply").out, "--yes"));
  const std::string export_help = Help("pce export").out;
  EXPECT_FALSE(Has(export_help, "--label-map"));
  EXPECT_FALSE(Has(export_help, "--include-rejected"));
  EXPECT_FALSE(Has(Help("pce sync").out, "--include-rejected"));
}

TEST_F(CliTest, BareMoatPolicyAndPcePrintUsageOnStderrAndExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{}, {"policy"}, {"pce"}}) {
    const RunResult r = Moat(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_TRUE(r.err.starts_with("Usage: moat ")) << r.err;
  }
  EXPECT_TRUE(Has(Moat({"pce"}).err, "moat pce sync [options]"));
  EXPECT_TRUE(Has(Moat({}).err, "  completion "));
  const RunResult help = Moat({"pce", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(help.out.starts_with("Usage: moat pce export")) << help.out;
}

TEST_F(CliTest, AMistypedOptionOrCommandNamesTheNearestOne) {
  RunResult r = Moat({"plan", "--polcy", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "moat: plan: unknown option --polcy (did you mean --policy?)\n");
  r = Moat({"pce", "sync", "--prnue"});
  EXPECT_EQ(r.err, "moat: pce sync: unknown option --prnue (did you mean --prune?)\n");
  r = Moat({"flows", "--frobnicate", "a.log"});
  EXPECT_EQ(r.err, "moat: flows: unknown option --frobnicate ('moat flows --help' lists the options)\n");
  r = Moat({"plna"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "moat: plna: unknown command (did you mean plan?)\n");
  r = Moat({"pce", "synk"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "moat: pce: unknown command 'synk' (did you mean sync?)\n");
  EXPECT_EQ(Moat({"help", "aply"}).err, "moat: help: unknown command 'aply' (did you mean apply?)\n");
}

TEST_F(CliTest, NumericOptionsOutOfRangeAreRefusedNamingTheOption) {
  struct Case {
    std::vector<std::string> args;
    std::string option;
  };
  const std::vector<Case> cases = {
      {{"flows", "--limit", "-1", "a.log"}, "--limit"},
      {{"flows", "--top", "x", "a.log"}, "--top"},
      {{"flows", "--service-port", "70000", "a.log"}, "--service-port"},
      {{"plan", "--policy", "p.json", "--threads", "-3"}, "--threads"},
      {{"plan", "--policy", "p.json", "--rules-per-group", "0"}, "--rules-per-group"},
      {{"plan", "--policy", "p.json", "--max-revoke-share", "1.5"}, "--max-revoke-share"},
      {{"pce", "upload-flows", "--threads", "-3", "a.log"}, "--threads"},
  };
  for (const Case& c : cases) {
    const RunResult r = Moat(c.args);
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_TRUE(r.err.starts_with("moat: " + Words(c.args[0])[0])) << r.err;
    EXPECT_TRUE(Has(r.err, c.option)) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  const RunResult env = Moat({"flows", "a.log"}, {{"MOAT_LIMIT", "-1"}});
  EXPECT_EQ(env.exit_code, 1);
  EXPECT_TRUE(Has(env.err, "--limit")) << env.err;
}

TEST_F(CliTest, CompletionScriptsNameEveryCommandSubcommandAndOption) {
  for (const char* shell : {"bash", "zsh"}) {
    const RunResult r = Moat({"completion", shell});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    for (const std::string& c : kTopCommands) EXPECT_TRUE(Has(r.out, c)) << shell << ": " << c;
    for (const std::string& path : kCommandPaths) EXPECT_TRUE(Has(r.out, "\"" + path + "\")")) << shell << ": " << path;
    for (const char* option : {"--policy", "--detailed-exitcode", "--label-map", "--queue", "--no-color", "--region"}) {
      EXPECT_TRUE(Has(r.out, option)) << shell << ": " << option;
    }
  }
  EXPECT_TRUE(Moat({"completion", "zsh"}).out.starts_with("#compdef moat\n"));
  const RunResult bash = Moat({"completion", "bash"});
  const std::string script = dir_.Write("moat.bash", bash.out);
  const RunResult syntax = RunProcess("/bin/bash", {"-n", script}, {}, dir_.path());
  EXPECT_EQ(syntax.exit_code, 0) << Describe(syntax);
  EXPECT_EQ(Moat({"completion", "fish"}).exit_code, 1);
}

TEST_F(CliTest, ManPageHasEveryCommandAndRenders) {
  const RunResult r = Moat({"__man"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(r.out.starts_with(".TH MOAT 1 ")) << r.out.substr(0, 200);
  for (const std::string& path : kCommandPaths) {
    std::string roff = path;
    for (size_t at = 0; (at = roff.find('-', at)) != std::string::npos; at += 2) roff.replace(at, 1, "\\-");
    EXPECT_TRUE(Has(r.out, ".SS \"moat " + roff)) << path;
  }
  for (const char* section : {".SH NAME\n", ".SH SYNOPSIS\n", ".SH ENVIRONMENT\n", ".SH EXIT STATUS\n"}) {
    EXPECT_TRUE(Has(r.out, section)) << section;
  }
  const std::string page = dir_.Write("moat.1", r.out);
  const RunResult shown = RunProcess(
      "/bin/sh", {"-c", "command -v man >/dev/null || exit 77; MANPAGER=cat MANWIDTH=100 man -l \"$0\"", page}, {},
      dir_.path());
  if (shown.exit_code == 77) GTEST_SKIP() << "no man here";
  EXPECT_EQ(shown.exit_code, 0) << Describe(shown);
  EXPECT_TRUE(Has(shown.out, "EXIT STATUS")) << shown.out.substr(0, 400);
}

// The build directory: the nearest parent of the binary with a CMakeCache.txt.
std::filesystem::path BuildDirectory() {
  for (std::filesystem::path p = std::filesystem::path(MOAT_BINARY).parent_path(); p.has_relative_path();
       p = p.parent_path()) {
    if (std::filesystem::exists(p / "CMakeCache.txt")) return p;
  }
  return {};
}

TEST_F(CliTest, CmakeInstallInstallsTheBinaryManPageAndCompletions) {
  const std::filesystem::path build = BuildDirectory();
  ASSERT_FALSE(build.empty());
  const std::string prefix = dir_.path() + "/prefix";
  const RunResult r = RunProcess("/bin/sh", {"-c", "cmake --install \"$0\" --prefix \"$1\"", build.string(), prefix},
                                 {}, dir_.path(), 120);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* file : {"bin/moat", "share/man/man1/moat.1", "share/bash-completion/completions/moat",
                           "share/zsh/site-functions/_moat"}) {
    EXPECT_TRUE(std::filesystem::is_regular_file(prefix + "/" + file)) << file;
  }
  EXPECT_EQ(ReadFile(prefix + "/share/man/man1/moat.1"), Moat({"__man"}).out);
  EXPECT_EQ(ReadFile(prefix + "/share/bash-completion/completions/moat"), Moat({"completion", "bash"}).out);
  EXPECT_EQ(ReadFile(prefix + "/share/zsh/site-functions/_moat"), Moat({"completion", "zsh"}).out);
}

class CliAwsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(moto_.ok()) << moto_.error();
    // The sample policy, pointed at moto's orders-db.
    std::string bundle = ReadFile(MOAT_SOURCE_DIR "/samples/policy/orders-db.bundle.json");
    const std::string sample = "orders-db.c9xk2example.us-east-2.rds.amazonaws.com";
    bundle.replace(bundle.find(sample), sample.size(), "orders-db.aaaaaaaaaa.us-east-1.rds.amazonaws.com");
    policy_ = dir_.Write("policy.json", bundle);
  }
  RunResult Plan(std::vector<std::string> extra, std::vector<std::pair<std::string, std::string>> env = {}) {
    RunOptions o;
    o.env = moto_.Environment();
    o.env.insert(o.env.end(), env.begin(), env.end());
    std::vector<std::string> args = {
        "plan", "--policy", policy_, "--target", "orders-db", "--state", dir_.path() + "/state"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunProcess(MOAT_BINARY, args, o, dir_.path(), 120);
  }
  MotoServer moto_;
  TempDir dir_;
  std::string policy_;
};

TEST_F(CliAwsTest, ThePlanOnAPipeIsNeverColoured) {
  const RunResult plain = Plan({}, {{"TERM", "xterm-256color"}});
  ASSERT_EQ(plain.exit_code, 0) << Describe(plain);
  EXPECT_TRUE(Has(plain.out, "  + ")) << plain.out;
  EXPECT_FALSE(Has(plain.out, "\033[")) << plain.out;
  const RunResult no_color = Plan({"--no-color"}, {{"NO_COLOR", "1"}});
  EXPECT_EQ(no_color.exit_code, 0) << Describe(no_color);
  EXPECT_FALSE(Has(no_color.out, "\033["));
  EXPECT_FALSE(Has(Plan({"--json"}).out, "\033["));
}

TEST_F(CliAwsTest, RegionAndProfileFlagsStandInForTheEnvironment) {
  const std::vector<std::pair<std::string, std::string>> no_region = {
      {"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", ""}, {"AWS_CONFIG_FILE", "/nonexistent"}};
  const RunResult missing = Plan({}, no_region);
  EXPECT_EQ(missing.exit_code, 1) << Describe(missing);
  EXPECT_TRUE(Has(missing.err, "no AWS region")) << missing.err;
  const RunResult with_flag = Plan({"--region", "us-east-1"}, no_region);
  EXPECT_EQ(with_flag.exit_code, 0) << Describe(with_flag);

  // --profile: that profile's keys, not the (wrong) ones in the environment.
  const std::string credentials =
      dir_.Write("credentials", "[moat-test]\naws_access_key_id = " + moto_.access_key_id() +
                                    "\naws_secret_access_key = " + moto_.secret_access_key() + "\n");
  const std::vector<std::pair<std::string, std::string>> wrong_keys = {{"AWS_ACCESS_KEY_ID", "AKIAWRONGWRONGWRONG0"},
                                                                       {"AWS_SECRET_ACCESS_KEY", "wrong"},
                                                                       {"AWS_SHARED_CREDENTIALS_FILE", credentials}};
  EXPECT_EQ(Plan({}, wrong_keys).exit_code, 1);
  const RunResult profile = Plan({"--profile", "moat-test"}, wrong_keys);
  EXPECT_EQ(profile.exit_code, 0) << Describe(profile);
}

}  // namespace
}  // namespace moat::integration
