#pragma once
// The shape of a consensus core as the group driver sees it, modelled on etcd-io/raft's
// RawNode: proposals go in; a Ready comes out (entries to persist, entries committed);
// the driver persists, then calls Advance, then applies what is committed. Today the only
// core is SingleVoterCore (a one-node group whose commit is the local fsync); the Raft core
// (its own issue) plugs into the same loop, so api/ and mq/ do not change.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cmq::cluster {

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  std::shared_ptr<const std::string> payload;  // shared with the payload cache
};

struct Ready {
  std::vector<Entry> entries_to_persist;  // append these to the log, in order
  bool must_sync = false;                 // fsync before Advance (always, for new entries)
  std::vector<Entry> committed;           // apply these, in order, after Advance
  bool empty() const { return entries_to_persist.empty() && committed.empty(); }
};

class ConsensusCore {
 public:
  virtual ~ConsensusCore() = default;
  // Appends a new entry (as leader) and returns its index.
  virtual uint64_t Propose(std::shared_ptr<const std::string> payload) = 0;
  virtual bool HasReady() const = 0;
  // REQUIRES: HasReady(). The caller handles it fully, then calls Advance() with it.
  virtual Ready GetReady() = 0;
  virtual void Advance(const Ready& ready) = 0;
  virtual uint64_t commit_index() const = 0;
};

}  // namespace cmq::cluster
