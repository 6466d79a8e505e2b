#pragma once
// A request waiting for its command to be applied (or, for a parked receive, for a message).

#include <cstdint>
#include <memory>
#include <string>

#include "cluster/queue_service.h"
#include "mq/command.h"

namespace cmq::cluster {

// A receive whose messages the leader chose (docs/queue-model.md "Receives answered before
// their commit"): its client is answered as soon as the kReceiveChosen is in the leader's
// log, not when it commits.
struct ChosenReceive {
  mq::Command chosen;    // the kReceiveChosen in encoded (to give its reservation back)
  CommandResult answer;  // the messages and their bodies, as the apply will make them
};

struct Proposal {
  std::string encoded;  // mq::EncodeCommand output
  CommandCallback done;
  bool is_receive = false;
  int64_t deadline_ms = 0;  // receives: answer kNoMessage once the clock passes this
  std::string queue_key;    // receives: the queue's name in lower case, for parking
  // Receives: the client's kReceiveMessages. Its messages are chosen when some are visible;
  // until then, encoded is empty (parked) or a kReceiveChosen without messages that brings
  // the queue up to its time, after which they are chosen again.
  mq::Command receive;
  std::unique_ptr<ChosenReceive> chosen;  // receives, once messages are reserved for it
  AbandonFlag abandoned;                  // receives: its client is gone once set
  // A send (or half send) to queue_key: counted in Node::sends_in_flight_ from Enqueue to
  // Finish, so that a body move is not proposed while it could land first.
  bool is_send = false;
};

}  // namespace cmq::cluster
