#include "tools/bench/report.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>

namespace cmq::bench {

std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

namespace {

double Ms(const client::Histogram* h, double p) {
  return h ? static_cast<double>(h->Percentile(p)) / 1000.0 : 0;
}

// "copies_per_s" -> "copies/s", "server_cpu_us_per_msg" -> "server_cpu_us/msg".
std::string TextKey(const std::string& key) {
  size_t at = key.rfind("_per_");
  if (at == std::string::npos) return key;
  return key.substr(0, at) + "/" + key.substr(at + 5);
}

std::string UtcNow() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string Text(const Report& r) {
  double rate = r.messages / r.seconds;
  std::ostringstream o;
  o << "workload=" << r.workload;
  if (!r.protocol.empty()) o << " protocol=" << r.protocol;
  for (const auto& [k, v] : r.params) o << " " << k << "=" << v;
  o << " clients=" << r.clients << " size=" << r.size << " batch=" << r.batch
    << " messages=" << r.messages << " seconds=" << Fixed(r.seconds, 2)
    << " msgs/s=" << Fixed(rate, 0) << " MB/s=" << Fixed(rate * r.size / 1e6, 1)
    << " p50=" << Fixed(Ms(r.latency, 50), 3) << "ms p99=" << Fixed(Ms(r.latency, 99), 3)
    << "ms p999=" << Fixed(Ms(r.latency, 99.9), 3) << "ms requests=" << r.requests
    << " errors=" << r.errors;
  for (const auto& [k, v] : r.extra) o << " " << TextKey(k) << "=" << v;
  if (r.e2e) {
    o << " e2e_p50=" << Fixed(Ms(r.e2e, 50), 3) << "ms e2e_p99=" << Fixed(Ms(r.e2e, 99), 3)
      << "ms e2e_p999=" << Fixed(Ms(r.e2e, 99.9), 3) << "ms";
  }
  if (r.server_cpu_us_per_msg) o << " server_cpu_us/msg=" << Fixed(*r.server_cpu_us_per_msg, 1);
  return o.str();
}

std::string Json(const Config& cfg, const Report& r) {
  double rate = r.messages / r.seconds;
  // The headline latency: send to receipt where measured, else one request.
  const client::Histogram* head = r.e2e ? r.e2e : r.latency;
  std::ostringstream o;
  o << R"({"workload":")" << r.workload << '"';
  if (!r.protocol.empty()) o << R"(,"protocol":")" << r.protocol << '"';
  o << R"(,"clients":)" << r.clients << R"(,"size":)" << r.size << R"(,"batch":)" << r.batch
    << R"(,"messages":)" << r.messages << R"(,"produced":)" << r.produced << R"(,"requests":)"
    << r.requests << R"(,"seconds":)" << Fixed(r.seconds, 3) << R"(,"msgs_per_s":)"
    << Fixed(rate, 1) << R"(,"mb_per_s":)" << Fixed(rate * r.size / 1e6, 2) << R"(,"p50_ms":)"
    << Fixed(Ms(head, 50), 3) << R"(,"p99_ms":)" << Fixed(Ms(head, 99), 3) << R"(,"p999_ms":)"
    << Fixed(Ms(head, 99.9), 3) << R"(,"errors":)" << r.errors;
  for (const auto& [k, v] : r.extra) o << R"(,")" << k << R"(":)" << v;
  o << R"(,"latency":")" << (r.e2e ? "e2e" : "request") << '"';
  if (r.e2e) {
    o << R"(,"request_p50_ms":)" << Fixed(Ms(r.latency, 50), 3) << R"(,"request_p99_ms":)"
      << Fixed(Ms(r.latency, 99), 3);
  }
  o << R"(,"server_cpu_us_per_msg":)"
    << (r.server_cpu_us_per_msg ? Fixed(*r.server_cpu_us_per_msg, 2) : std::string("null"));
  o << R"(,"params":{"endpoints":)" << cfg.endpoints.size() << R"(,"clients":)" << r.clients
    << R"(,"size":)" << r.size << R"(,"batch":)" << r.batch;
  if (cfg.timed()) o << R"(,"duration":)" << cfg.duration;
  for (const auto& [k, v] : r.params) o << R"(,")" << k << R"(":)" << v;
  o << R"(},"ts":")" << UtcNow() << R"("})";
  return o.str();
}

}  // namespace

bool Emit(const Config& cfg, const Report& r) {
  std::cout << (cfg.json_stdout ? Json(cfg, r) : Text(r)) << "\n" << std::flush;
  if (cfg.json_file.empty()) return true;
  std::ofstream out(cfg.json_file, std::ios::app);
  out << Json(cfg, r) << "\n";
  out.flush();
  if (!out) {
    std::cerr << "--json " << cfg.json_file << ": " << std::strerror(errno) << "\n";
    return false;
  }
  return true;
}

}  // namespace cmq::bench
