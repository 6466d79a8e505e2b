#include "tools/bench/server_cpu.h"

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>

namespace cmq::bench {

ServerCpu::ServerCpu(std::vector<int> pids) : pids_(std::move(pids)) {
  if (!pids_.empty()) before_ = Seconds();
}

std::optional<double> ServerCpu::Seconds() const {
  static const double kTicks = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (int pid : pids_) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces and parentheses: fields are counted from
    // the last ')'. utime and stime are fields 14 and 15, the 12th and 13th after it.
    size_t close = stat.rfind(')');
    if (close == std::string::npos) {
      std::cerr << "server cpu: cannot read /proc/" << pid << "/stat\n";
      return std::nullopt;
    }
    std::istringstream fields(stat.substr(close + 1));
    std::string skip;
    for (int i = 0; i < 11; ++i) fields >> skip;
    unsigned long long utime = 0, stime = 0;
    if (!(fields >> utime >> stime)) return std::nullopt;
    total += static_cast<double>(utime + stime) / kTicks;
  }
  return total;
}

std::optional<double> ServerCpu::UsPerMessage(uint64_t messages) const {
  if (!before_ || messages == 0) return std::nullopt;
  auto after = Seconds();
  if (!after) return std::nullopt;
  return (*after - *before_) * 1e6 / static_cast<double>(messages);
}

}  // namespace cmq::bench
