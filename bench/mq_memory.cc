// Measures the RAM the queue state machine keeps per message (DESIGN.md "Storage": budget
// ~64 bytes per retained message; bodies stay in the log). Applies 1,000,000 single-message
// sends of 1 KiB bodies to one queue, then receives as many as the in-flight cap allows
// (limits.h: 100,000 per queue), and prints the growth of
// the resident set per message, and per in-flight message. The payload buffer is reused: the state
// keeps only body locations. Run from a Release build: ./build-mq-rel/mq_memory
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "mq/entry.h"
#include "mq/limits.h"
#include "mq/state_machine.h"

namespace {

using cmq::mq::ApplyContext;
using cmq::mq::ApplyResult;
using cmq::mq::Command;
using cmq::mq::CommandType;

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr uint64_t kMessages = 1'000'000;
// Half the messages would be 500,000, but a queue holds at most
// kMaxInflightAndDelayedPerQueue messages in flight: receive up to that cap.
constexpr uint64_t kReceived = std::min<uint64_t>(500'000, cmq::mq::kMaxInflightAndDelayedPerQueue);

int64_t ResidentBytes() {
  malloc_trim(0);
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * sysconf(_SC_PAGESIZE);
}

class Driver {
 public:
  ApplyResult Apply(const Command& cmd, int64_t now_ms) {
    payload_.clear();
    cmq::mq::EncodeEntryHeader(payload_, now_ms, 1);
    cmq::mq::EncodeCommand(cmd, payload_);
    cmq::Result<cmq::mq::DecodedEntry> entry = cmq::mq::DecodeEntry(payload_);
    if (!entry.ok()) {
      std::fprintf(stderr, "decode: %s\n", entry.status().ToString().c_str());
      std::exit(1);
    }
    ApplyResult r = sm_.Apply(entry->commands[0], ApplyContext{now_ms, ++index_, payload_});
    if (!r.status.ok()) {
      std::fprintf(stderr, "apply: %s\n", r.status.ToString().c_str());
      std::exit(1);
    }
    return r;
  }

 private:
  cmq::mq::StateMachine sm_{1};
  std::string payload_;
  uint64_t index_ = 0;
};

}  // namespace

int main() {
  Driver driver;
  Command create;
  create.type = CommandType::kCreateQueue;
  create.queue_name = "bench";
  driver.Apply(create, kStartMs);

  const std::string body(1024, 'b');
  Command send;
  send.type = CommandType::kSendMessages;
  send.queue_name = "bench";
  send.bodies = {body};
  // Warm up the allocator and the payload buffer before the baseline.
  driver.Apply(send, kStartMs);
  int64_t before = ResidentBytes();
  for (uint64_t i = 1; i < kMessages; ++i) driver.Apply(send, kStartMs + static_cast<int64_t>(i));
  int64_t after_send = ResidentBytes();

  Command receive;
  receive.type = CommandType::kReceiveMessages;
  receive.queue_name = "bench";
  receive.num_messages = 16;
  uint64_t received = 0;
  while (received < kReceived) {
    received += driver.Apply(receive, kStartMs + static_cast<int64_t>(kMessages)).messages.size();
  }
  int64_t after_receive = ResidentBytes();

  std::printf("messages: %llu sent (1 KiB bodies, kept in the log only)\n",
              static_cast<unsigned long long>(kMessages));
  std::printf("rss growth after sends: %lld bytes = %.1f bytes/message\n",
              static_cast<long long>(after_send - before),
              static_cast<double>(after_send - before) / kMessages);
  std::printf(
      "then %llu received (in flight): +%lld bytes = %.1f bytes per in-flight message; "
      "total %.1f bytes/message\n",
      static_cast<unsigned long long>(received), static_cast<long long>(after_receive - after_send),
      static_cast<double>(after_receive - after_send) / static_cast<double>(received),
      static_cast<double>(after_receive - before) / kMessages);
  return 0;
}
