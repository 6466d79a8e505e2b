#include "unit/raft/datadriven.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cmq::raft::testing {

std::vector<std::string> TestCase::Positional() const {
  std::vector<std::string> out;
  for (const CommandArg& a : args) {
    if (a.key.empty()) out.push_back(a.values.front());
  }
  return out;
}

bool TestCase::Has(const std::string& key) const {
  for (const CommandArg& a : args) {
    if (a.key == key) return true;
  }
  return false;
}

std::vector<std::string> TestCase::Values(const std::string& key) const {
  for (const CommandArg& a : args) {
    if (a.key == key) return a.values;
  }
  return {};
}

std::string TestCase::Value(const std::string& key, const std::string& fallback) const {
  auto v = Values(key);
  return v.empty() ? fallback : v.front();
}

CommandArg ParseArg(const std::string& token) {
  CommandArg arg;
  auto eq = token.find('=');
  if (eq == std::string::npos) {
    arg.values.push_back(token);
    return arg;
  }
  arg.key = token.substr(0, eq);
  std::string value = token.substr(eq + 1);
  if (value.size() >= 2 && value.front() == '(' && value.back() == ')') {
    std::stringstream items(value.substr(1, value.size() - 2));
    std::string item;
    while (std::getline(items, item, ',')) {
      if (!item.empty()) arg.values.push_back(item);
    }
  } else {
    arg.values.push_back(value);
  }
  return arg;
}

TestCase ParseCommandLine(const std::string& line) {
  TestCase tc;
  tc.input_line = line;
  std::stringstream ss(line);
  std::string token;
  ss >> tc.command;
  while (ss >> token) tc.args.push_back(ParseArg(token));
  return tc;
}

namespace {

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

std::string Trimmed(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

std::string RunDataDrivenFile(const std::string& path,
                              const std::function<std::string(const TestCase&)>& run) {
  const std::vector<std::string> lines = ReadLines(path);
  const char* rewrite_env = std::getenv("CMQ_REWRITE");
  const bool rewrite = rewrite_env != nullptr && std::string(rewrite_env) == "1";
  if (lines.empty()) return path + ": empty or missing\n";
  std::string failures, rewritten;
  size_t i = 0;
  while (i < lines.size()) {
    const std::string& line = lines[i];
    if (line.empty() || line[0] == '#') {
      rewritten += line + "\n";
      ++i;
      continue;
    }
    TestCase tc = ParseCommandLine(line);
    tc.line = static_cast<int>(i + 1);
    ++i;
    if (i >= lines.size() || lines[i] != "----") {
      return failures + path + ":" + std::to_string(tc.line) + ": expected ---- after command\n";
    }
    ++i;
    std::string expected;
    while (i < lines.size() && !lines[i].empty()) expected += lines[i++] + "\n";
    tc.expected = Trimmed(expected);
    std::string actual = Trimmed(run(tc));
    if (actual.empty()) actual = "ok";
    rewritten += line + "\n----\n" + actual + "\n";
    if (actual != tc.expected && !rewrite) {
      failures += path + ":" + std::to_string(tc.line) + ": " + tc.input_line +
                  "\n--- expected:\n" + tc.expected + "\n--- actual:\n" + actual + "\n";
    }
  }
  if (rewrite) {
    std::ofstream out(path, std::ios::trunc);
    out << rewritten;
  }
  return failures;
}

}  // namespace cmq::raft::testing
