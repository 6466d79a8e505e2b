#pragma once
// Starts a real cmqd on a free loopback port with its own data directory, for the
// integration and crash tests. cmqd's output goes to DIR/cmqd.log; the test waits for the
// line containing "ready" and reads the bound port from it.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#ifndef CMQD_PATH
#error "CMQD_PATH must name the cmqd binary"
#endif

namespace cmq::testing {

// The temporary directories this test process made, removed when it exits (each test
// runs in a process of its own under ctest), unless CMQ_KEEP_TEST_DIRS is set: a node's
// data reserves log space ahead of its writes, and hundreds of leftover directories filled
// a disk once.
class TempDirs {
 public:
  static TempDirs& Get() {
    static TempDirs dirs;
    return dirs;
  }
  void Add(std::string dir) { dirs_.push_back(std::move(dir)); }
  ~TempDirs() {
    if (std::getenv("CMQ_KEEP_TEST_DIRS") != nullptr) return;
    for (const std::string& dir : dirs_) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }

 private:
  std::vector<std::string> dirs_;
};

inline std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  std::string dir(buf.data());
  TempDirs::Get().Add(dir);
  return dir;
}

class CmqdProcess {
 public:
  // data_dir: reused across restarts of the same "node".
  explicit CmqdProcess(std::string data_dir, std::vector<std::string> extra_args = {})
      : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {}
  ~CmqdProcess() { Kill(SIGKILL); }

  // Starts cmqd and waits until it serves. port 0 = any free port (the same port is reused
  // on restart, so clients can reconnect).
  void Start(int port = 0) {
    std::filesystem::create_directories(data_dir_);
    log_path_ = data_dir_ + "/cmqd.log." + std::to_string(++starts_);
    // Another CmqdProcess on the same data (a restart with other flags) reuses the names:
    // an old log saying "ready" must not pass for this start's.
    std::filesystem::remove(log_path_);
    std::string http = "127.0.0.1:" + std::to_string(port != 0 ? port : port_);
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      FILE* out = std::freopen(log_path_.c_str(), "w", stdout);
      (void)out;
      dup2(fileno(stdout), fileno(stderr));
      std::vector<std::string> args = {CMQD_PATH, "--http", http, "--data", data_dir_ + "/node"};
      args.insert(args.end(), extra_args_.begin(), extra_args_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::regex ready_re("ready.*?127\\.0\\.0\\.1:([0-9]+)");
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(log_path_);
      std::stringstream ss;
      ss << in.rdbuf();
      std::smatch m;
      std::string text = ss.str();
      if (std::regex_search(text, m, ready_re)) {
        port_ = std::stoi(m[1]);
        return;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("cmqd exited during start-up:\n" + text);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("cmqd did not become ready; log: " + log_path_);
  }

  // Sends sig and reaps the process; returns its wait status.
  int Kill(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  // Starts cmqd expecting it to refuse to: a test failure unless it exits during start-up
  // saying `expected`.
  void ExpectStartFails(const std::string& expected) {
    try {
      Start();
      ADD_FAILURE() << "cmqd started, though it should have refused: " << expected;
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
    }
  }
  // More arguments for the next Start.
  void AppendArgs(const std::vector<std::string>& args) {
    extra_args_.insert(extra_args_.end(), args.begin(), args.end());
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
  int starts_ = 0;
};

}  // namespace cmq::testing
