#pragma once
// Always-on invariant checks (on in release builds too): a broken invariant is a crash with
// a message, never silent corruption.

#include <cstdio>
#include <cstdlib>

namespace cmq::detail {
[[noreturn]] void AssertFail(const char* expr, const char* file, int line, const char* msg);
}

#define CMQ_ASSERT(cond, msg)                                      \
  do {                                                             \
    if (!(cond)) [[unlikely]]                                      \
      ::cmq::detail::AssertFail(#cond, __FILE__, __LINE__, (msg)); \
  } while (0)
