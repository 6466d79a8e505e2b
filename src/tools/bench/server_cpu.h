#pragma once
// Server CPU per message: the fairest figure when clients and servers share the cores.
// Read from /proc/<pid>/stat (utime + stime, all threads of the process) of the server
// processes named by --server-pids, before and after a run.

#include <cstdint>
#include <optional>
#include <vector>

namespace cmq::bench {

class ServerCpu {
 public:
  // Takes the first reading.
  explicit ServerCpu(std::vector<int> pids);

  // CPU-µs the servers used since the first reading, per message; nullopt without pids,
  // when a process is gone, or without messages.
  std::optional<double> UsPerMessage(uint64_t messages) const;

 private:
  // CPU seconds used so far by all the processes; nullopt if one cannot be read.
  std::optional<double> Seconds() const;

  std::vector<int> pids_;
  std::optional<double> before_;
};

}  // namespace cmq::bench
