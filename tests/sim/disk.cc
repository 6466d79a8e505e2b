#include "sim/disk.h"

namespace cmq::sim {

void SimDisk::MaybeInjectFault(const DiskOptions& options) {
  if (armed_) return;
  if (random_->Chance(options.fail_write_probability)) {
    uint64_t after = random_->Between(0, 20);
    fs_.FailWriteAfter(after);
    armed_ = true;
    SIM_TRACE(*trace_, "disk {}: write fails after {} more", node_, after);
  } else if (random_->Chance(options.fail_sync_probability)) {
    fs_.FailNextSync();
    armed_ = true;
    SIM_TRACE(*trace_, "disk {}: next sync fails", node_);
  } else if (random_->Chance(options.no_space_probability)) {
    // Room for a few more records above what is there now.
    uint64_t total = 0;
    for (const char* dir : {"/node/log", "/node/snapshots"}) {
      auto names = fs_.ListDir(dir);
      if (!names.ok()) continue;
      for (const std::string& name : *names) total += fs_.FileSize(std::string(dir) + "/" + name);
    }
    uint64_t limit = total + random_->Between(0, 4096);
    fs_.SetSpaceLimit(limit);
    armed_ = true;
    SIM_TRACE(*trace_, "disk {}: full at {} bytes", node_, limit);
  }
}

void SimDisk::Crash() {
  switch (random_->Below(3)) {
    case 0:
      fs_.SimulateCrash();
      SIM_TRACE(*trace_, "disk {}: crash drops unsynced data", node_);
      break;
    case 1: {
      uint64_t keep = random_->Between(0, 64);
      fs_.SimulateCrashTearingLastWrite(keep);
      SIM_TRACE(*trace_, "disk {}: crash tears last writes after {} bytes", node_, keep);
      break;
    }
    default: {
      uint64_t seed = random_->Next();
      fs_.SimulateCrashKeepingRandomPrefix(seed);
      SIM_TRACE(*trace_, "disk {}: crash keeps random unsynced prefixes", node_);
      break;
    }
  }
}

void SimDisk::ClearFaults() {
  fs_.ClearFaults();
  armed_ = false;
}

}  // namespace cmq::sim
