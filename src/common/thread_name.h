#pragma once
// Names the calling thread (what top -H, perf and gdb show): at most 15 characters are
// kept. A name that cannot be set is not an error worth reporting.

#include <string>

namespace cmq {

void SetThreadName(const std::string& name);

}  // namespace cmq
