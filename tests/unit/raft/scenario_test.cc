// Runs every testdata/*.txt scenario script through InteractionEnv (see its header for
// the commands). CMQ_REWRITE=1 rewrites the expected outputs.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "unit/raft/datadriven.h"
#include "unit/raft/interaction_env.h"

namespace cmq::raft::testing {
namespace {

std::filesystem::path TestdataDir() {
  return std::filesystem::path(__FILE__).parent_path() / "testdata";
}

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(TestdataDir())) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class ScenarioTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, MatchesExpectedOutput) {
  InteractionEnv env;
  std::string failures = RunDataDrivenFile((TestdataDir() / GetParam()).string(),
                                           [&](const TestCase& tc) { return env.Handle(tc); });
  EXPECT_TRUE(failures.empty()) << failures;
}

INSTANTIATE_TEST_SUITE_P(Scripts, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace cmq::raft::testing
