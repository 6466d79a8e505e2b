#pragma once
// The two request loops every workload is made of: a Producer sends (or publishes)
// messages, a Consumer receives a batch and deletes it. What they send and how many, how
// fast, and when they stop is shared by all agents of a run through a plan.

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/url.h"
#include "tools/bench/runner.h"

namespace cmq::bench {

// A body of `size` bytes of letters and digits (nothing to escape, in a form or in JSON).
std::string MakeBody(int size);

// The send time travels in the first kStampDigits bytes of a body, as decimal nanoseconds
// of the steady clock: receivers run in the same process, and a text body stays valid
// whatever the server checks.
inline constexpr size_t kStampDigits = 19;
void WriteStamp(std::string* body, Clock::time_point t);
std::optional<Clock::time_point> ReadStamp(std::string_view body);
// Records in st.e2e_us the time from the stamp in `body` (if it has one) to `now`.
void RecordE2e(Stats& st, std::string_view body, Clock::time_point now);

// What the producers of one run send, and how many and how fast.
struct SendPlan {
  // target: the queue (SendMessage) or topic (PublishMessage); batch > 1 uses the batch action.
  SendPlan(std::string target, bool topic, int batch, std::string body);
  SendPlan(const SendPlan&) = delete;
  SendPlan& operator=(const SendPlan&) = delete;

  // The parameters of a request carrying n bodies.
  FormParams Params(int n) const;

  // A producer's next request: n messages, sent no sooner than `due`.
  struct Turn {
    int n = 0;
    Clock::time_point due = Clock::time_point::min();  // min: at once (no rate)
  };
  // Claims the next turn from the quota and the rate (shared by all producers of the run);
  // none once the quota is spent or the next rate slot falls at or past the deadline.
  std::optional<Turn> Claim(const RunState& run);

  std::string target;
  bool topic;
  int batch;
  std::string body;
  std::string action;
  FormParams params;    // a full batch
  std::string encoded;  // EncodeForm(params): full batches are not encoded again

  // With a quota, producers claim messages from it and stop when it is spent.
  bool limited = false;
  std::atomic<int64_t> quota{0};
  bool retry = false;  // a failed request gives its messages back to the quota (prefill)
  // Messages/s over all producers: message k is sent no sooner than k / rate after the start.
  double rate = 0;
  std::atomic<int64_t> next_slot{0};
  bool stamp = false;  // write the send time into every body (end-to-end latency)
};

class Producer : public Agent {
 public:
  Producer(RunState& run, Link link, SendPlan& plan);
  void Next() override;

 private:
  void Send(int n);

  SendPlan& plan_;
  boost::asio::steady_timer timer_;
  FormParams stamped_;  // stamp: this agent's copy of the parameters, bodies rewritten
};

// What the consumers of one run receive from, and when they stop.
struct ReceivePlan {
  ReceivePlan(std::string queue, int batch, int wait);
  ReceivePlan(const ReceivePlan&) = delete;
  ReceivePlan& operator=(const ReceivePlan&) = delete;

  std::string queue;
  FormParams receive;  // BatchReceiveMessage parameters
  std::string encoded;
  // > 0: the run stops once this many messages have been deleted (over all consumers).
  int64_t target = 0;
  std::atomic<int64_t> consumed{0};
  bool e2e = false;  // read the send time from every body received

  // Counts `n` messages a consumer deleted (none if n <= 0) in `st`; stops the run once
  // the target is reached.
  void CountDeleted(int n, Stats& st, RunState& run);
};

class Consumer : public Agent {
 public:
  Consumer(RunState& run, Link link, ReceivePlan& plan);
  void Next() override;

 private:
  void Delete(int n);

  ReceivePlan& plan_;
  FormParams delete_;
};

}  // namespace cmq::bench
