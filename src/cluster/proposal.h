#pragma once
// A request waiting for its command to be applied (or, for a parked receive, for a message).

#include <cstdint>
#include <string>

#include "cluster/queue_service.h"

namespace cmq::cluster {

struct Proposal {
  std::string encoded;  // mq::EncodeCommand output
  CommandCallback done;
  bool is_receive = false;
  int64_t deadline_ms = 0;  // receives: answer kNoMessage once the clock passes this
  std::string queue_key;    // receives: the queue's name in lower case, for parking
  // A send (or half send) to queue_key: counted in Node::sends_in_flight_ from Enqueue to
  // Finish, so that a body move is not proposed while it could land first.
  bool is_send = false;
};

}  // namespace cmq::cluster
