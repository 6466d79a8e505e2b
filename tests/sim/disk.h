#pragma once
// A node's simulated disk: storage::FaultInjectionFileSystem (whose header states the
// file-level fault model) plus the policy of when faults strike.
//
// Fault model, per seed (probabilities per node per step):
// * fail_write: one of the next few writes fails with EIO (nothing written).
// * fail_sync:  the next sync (fdatasync, directory sync, atomic file replace) fails with
//   EIO and leaves the data unsynced. A failed fsync is fatal to the node's write path:
//   the node crashes and, after a while, restarts from what the disk kept.
// * no_space:   the disk fills up a little above its current size (ENOSPC, with a short
//   write of what fits). Cleared when the node restarts (an operator freed space).
// * Crashes (process or power loss) drop every unsynced byte and name change; one in three
//   keeps a torn prefix of the last write of each file, one in three a random prefix of
//   each file's unsynced tail (a disk that writes back in order).
// Synced data is never lost or corrupted: that would be beyond what Raft tolerates
// without extra machinery, and is for storage's own tests (CorruptByte).

#include <cstdint>
#include <string>

#include "sim/sim_random.h"
#include "sim/trace.h"
#include "storage/fault_injection_file_system.h"

namespace cmq::sim {

struct DiskOptions {
  double fail_write_probability = 0;
  double fail_sync_probability = 0;
  double no_space_probability = 0;
};

class SimDisk {
 public:
  SimDisk(uint64_t node, SimRandom* random, Trace* trace)
      : node_(node), random_(random), trace_(trace) {}

  storage::FaultInjectionFileSystem* fs() { return &fs_; }
  // Maybe arms one fault, as the options say. No-op while a fault is armed.
  void MaybeInjectFault(const DiskOptions& options);
  // A crash of the node's process (or machine): unsynced data is lost or torn.
  void Crash();
  // A restart: armed faults go (the faulty write happened or the space was freed).
  void ClearFaults();
  bool fault_armed() const { return armed_; }

 private:
  uint64_t node_;
  SimRandom* random_;
  Trace* trace_;
  storage::FaultInjectionFileSystem fs_;
  bool armed_ = false;
};

}  // namespace cmq::sim
