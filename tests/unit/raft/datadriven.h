#pragma once
// A small interpreter for scenario scripts in the style of etcd's datadriven tests:
//
//   # comments and blank lines between cases are kept
//   command pos1 key=value key=(a,b,c)
//   ----
//   expected output (no blank lines)
//
// RunDataDrivenFile runs every case through `run` and reports mismatches with the file and
// line. With CMQ_REWRITE=1 in the environment it rewrites the expectations instead; commit a
// rewrite only after reading the diff and understanding every change.

#include <functional>
#include <string>
#include <vector>

namespace cmq::raft::testing {

struct CommandArg {
  std::string key;                  // empty for a positional argument
  std::vector<std::string> values;  // one value, or the items of key=(a,b)
};

struct TestCase {
  std::string command;  // the first word
  std::vector<CommandArg> args;
  std::string input_line;  // the whole command line, as written
  std::string expected;
  int line = 0;  // of the command, 1-based

  // Positional arguments, in order.
  std::vector<std::string> Positional() const;
  bool Has(const std::string& key) const;
  // Values of key=..., or empty.
  std::vector<std::string> Values(const std::string& key) const;
  std::string Value(const std::string& key, const std::string& fallback) const;
};

CommandArg ParseArg(const std::string& token);
TestCase ParseCommandLine(const std::string& line);

// Returns the failures as text (empty: all passed).
std::string RunDataDrivenFile(const std::string& path,
                              const std::function<std::string(const TestCase&)>& run);

}  // namespace cmq::raft::testing
