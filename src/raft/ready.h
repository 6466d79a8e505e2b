#pragma once
// Ready: everything the driver must do after feeding the core, in one batch.
//
// THE CONTRACT (for each Ready, in this order):
//   1. Persist: if `snapshot` is set, install it in Storage; append `entries` to Storage
//      (replacing any conflicting suffix); store `hard_state` if set. If `must_sync`, fsync
//      all of that before going on.
//   2. Send `messages` (only after step 1: a vote or an acknowledgement may promise what
//      step 1 wrote). Sending may be asynchronous and lossy; Raft tolerates loss.
//   3. Apply: restore the state machine from `snapshot` if set; then apply
//      `committed_entries` in order. (They are always already stable: they never include
//      entries of this Ready's `entries`.)
//   4. Call RawNode::Advance(ready). Only then call GetReady again.
// Between GetReady and Advance the driver may still call Tick/Step/Propose; their effects
// show up in the next Ready.

#include <optional>
#include <vector>

#include "raft/message.h"
#include "raft/types.h"

namespace cmq::raft {

struct Ready {
  std::optional<SoftState> soft_state;   // set when leader or role changed
  std::optional<HardState> hard_state;   // set when term, vote or commit changed
  std::vector<Entry> entries;            // to persist, in order
  std::optional<Snapshot> snapshot;      // to install and restore from
  std::vector<Entry> committed_entries;  // to apply, in order
  std::vector<Message> messages;         // to send
  bool must_sync = false;  // entries, snapshot, term or vote changed: fsync before sending

  bool empty() const {
    return !soft_state && !hard_state && entries.empty() && !snapshot &&
           committed_entries.empty() && messages.empty();
  }
};

}  // namespace cmq::raft
