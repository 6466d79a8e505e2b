#include "common/thread_name.h"

#include <pthread.h>

namespace cmq {

void SetThreadName(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace cmq
