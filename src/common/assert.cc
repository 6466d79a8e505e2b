#include "common/assert.h"

namespace cmq::detail {

void AssertFail(const char* expr, const char* file, int line, const char* msg) {
  std::fprintf(stderr, "assertion failed: %s at %s:%d: %s\n", expr, file, line, msg);
  std::fflush(stderr);
  std::abort();
}

}  // namespace cmq::detail
