#include "sim/trace.h"

#include <cstdio>

#include "common/checksum.h"

namespace cmq::sim {

void Trace::Event(std::string_view text) {
  ++events_;
  std::string line = fmt::format("[{:>6}] {}", step_, text);
  if (hash_) {
    std::string chained = fmt::format("{:016x}", hash_value_);
    chained += line;
    hash_value_ = Hash64(chained);
  }
  if (print_) std::printf("%s\n", line.c_str());
}

}  // namespace cmq::sim
