// cmq-sim: the deterministic cluster simulator (docs/raft.md "Simulator").
//
//   cmq-sim --seeds N [--first-seed S] [--nodes 3|5] [--steps K] [--trace]
//           [--check-determinism] [--seed S] [--no-fork] [--verbose]
//
// Each seed runs in a forked child, so that a seed that trips an always-on assertion (in
// raft/, storage/ or mq/) is reported as a failure and the other seeds still run. The
// child runs single-threaded and deterministically; fork is only the harness.

#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include "sim/simulator.h"

namespace {

using cmq::sim::SeedResult;
using cmq::sim::SimOptions;
using cmq::sim::Simulator;

// Child -> parent: "ok|fail <step> <trace hash>\n<failure>\n<summary>\n".
std::string Serialize(const SeedResult& r) {
  return fmt::format("{} {} {}\n{}\n{}\n", r.ok ? "ok" : "fail", r.step, r.trace_hash, r.failure,
                     r.summary);
}

SeedResult Deserialize(const std::string& text) {
  SeedResult r;
  char status[8] = {0};
  unsigned long long step = 0, hash = 0;
  if (std::sscanf(text.c_str(), "%7s %llu %llu", status, &step, &hash) != 3) {
    r.ok = false;
    r.failure = "the seed's process crashed (see the assertion above)";
    return r;
  }
  r.ok = std::string(status) == "ok";
  r.step = step;
  r.trace_hash = hash;
  size_t a = text.find('\n');
  size_t b = text.find('\n', a + 1);
  size_t c = text.find('\n', b + 1);
  if (a != std::string::npos && b != std::string::npos) r.failure = text.substr(a + 1, b - a - 1);
  if (b != std::string::npos && c != std::string::npos) r.summary = text.substr(b + 1, c - b - 1);
  return r;
}

int g_result_fd = -1;

// In the child: a seed that aborts (an always-on assertion) or crashes still reports the
// step it reached. Only async-signal-safe calls here.
void OnFatalSignal(int sig) {
  char buf[64];
  char digits[24];
  int n = 0;
  uint64_t step = cmq::sim::g_current_step;
  do {
    digits[n++] = static_cast<char>('0' + step % 10);
    step /= 10;
  } while (step > 0);
  int len = 0;
  for (const char* p = "fail "; *p; ++p) buf[len++] = *p;
  while (n > 0) buf[len++] = digits[--n];
  for (const char* p = " 0\n"; *p; ++p) buf[len++] = *p;
  if (g_result_fd >= 0) (void)!write(g_result_fd, buf, static_cast<size_t>(len));
  signal(sig, SIG_DFL);
  raise(sig);
}

SeedResult RunInProcess(const SimOptions& options) {
  Simulator sim(options);
  return sim.Run();
}

SeedResult RunForked(const SimOptions& options) {
  std::fflush(stdout);
  std::fflush(stderr);
  int fds[2];
  if (pipe(fds) != 0) return RunInProcess(options);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return RunInProcess(options);
  }
  if (pid == 0) {
    close(fds[0]);
    g_result_fd = fds[1];
    signal(SIGABRT, OnFatalSignal);
    signal(SIGSEGV, OnFatalSignal);
    std::string out = Serialize(RunInProcess(options));
    std::fflush(stdout);
    size_t written = 0;
    while (written < out.size()) {
      ssize_t n = write(fds[1], out.data() + written, out.size() - written);
      if (n <= 0) break;
      written += static_cast<size_t>(n);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) text.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int wstatus = 0;
  waitpid(pid, &wstatus, 0);
  SeedResult r = Deserialize(text);
  if (WIFSIGNALED(wstatus) || (!r.ok && r.failure.empty())) {
    r.ok = false;
    r.failure = WIFSIGNALED(wstatus)
                    ? fmt::format("the seed's process died of signal {} (an assertion: see above)",
                                  WTERMSIG(wstatus))
                    : std::string("the seed's process ended without a result");
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"OpenCMQ deterministic cluster simulator"};
  uint64_t seeds = 1;
  uint64_t first_seed = 1;
  int64_t single_seed = -1;
  int nodes = 3;
  uint64_t steps = 1000;
  bool trace = false;
  bool check_determinism = false;
  bool no_fork = false;
  bool verbose = false;
  app.add_option("--seeds", seeds, "number of seeds to run");
  app.add_option("--first-seed", first_seed, "the first seed");
  app.add_option("--seed", single_seed, "replay exactly this one seed");
  app.add_option("--nodes", nodes, "nodes in the group")->check(CLI::IsMember({3, 5}));
  app.add_option("--steps", steps, "steps (ticks) of faults per seed, before healing");
  app.add_flag("--trace", trace, "print every event");
  app.add_flag("--check-determinism", check_determinism,
               "run each seed twice and compare the hashes of their traces");
  app.add_flag("--no-fork", no_fork, "run seeds in this process (for a debugger)");
  app.add_flag("--verbose", verbose, "print a summary line per seed");
  CLI11_PARSE(app, argc, argv);
  if (single_seed >= 0) {
    first_seed = static_cast<uint64_t>(single_seed);
    seeds = 1;
  }

  uint64_t failures = 0;
  auto started = std::chrono::steady_clock::now();  // reporting only; never in a seed
  for (uint64_t seed = first_seed; seed < first_seed + seeds; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.nodes = nodes;
    options.steps = steps;
    options.print_trace = trace;
    options.hash_trace = check_determinism;
    SeedResult r = no_fork ? RunInProcess(options) : RunForked(options);
    if (r.ok && check_determinism) {
      options.print_trace = false;
      SeedResult again = no_fork ? RunInProcess(options) : RunForked(options);
      if (again.trace_hash != r.trace_hash || again.step != r.step) {
        r.ok = false;
        r.failure = fmt::format("nondeterminism: trace hashes {:x} and {:x}", r.trace_hash,
                                again.trace_hash);
      }
    }
    if (!r.ok) {
      ++failures;
      std::printf(
          "FAIL seed %llu (--nodes %d) at step %llu: %s\n  replay: cmq-sim --seed %llu "
          "--nodes %d --steps %llu --trace\n  %s\n",
          static_cast<unsigned long long>(seed), nodes, static_cast<unsigned long long>(r.step),
          r.failure.c_str(), static_cast<unsigned long long>(seed), nodes,
          static_cast<unsigned long long>(steps), r.summary.c_str());
    } else if (verbose || seeds == 1) {
      std::printf("seed %llu ok: %s%s\n", static_cast<unsigned long long>(seed), r.summary.c_str(),
                  check_determinism ? fmt::format(" trace {:x}", r.trace_hash).c_str() : "");
    }
    std::fflush(stdout);
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%.1f ms per seed (wall clock of the harness, not of the simulation)\n",
              seeds ? seconds * 1000 / static_cast<double>(seeds) : 0.0);
  std::printf("%llu seeds, %llu failures\n", static_cast<unsigned long long>(seeds),
              static_cast<unsigned long long>(failures));
  return failures == 0 ? 0 : 1;
}
