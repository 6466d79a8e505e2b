#include "api/config.h"

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/http_server.h"

namespace cmq::api {
namespace {

using nlohmann::json;

Status Invalid(const std::string& path, const std::string& what) {
  return Status(ErrorCode::kInvalidArgument, path + ": " + what);
}

// Reads an integer member into out, checking its range.
Status ReadInt(const json& value, const std::string& key, int64_t min, int64_t max, int64_t& out,
               const std::string& path) {
  if (!value.is_number_integer()) return Invalid(path, "\"" + key + "\" must be an integer");
  int64_t v = 0;
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return Invalid(path, "\"" + key + "\" too large");
    v = static_cast<int64_t>(u);
  } else {
    v = value.get<int64_t>();
  }
  if (v < min || v > max) {
    return Invalid(path, "\"" + key + "\" must be in [" + std::to_string(min) + ", " +
                             std::to_string(max) + "]");
  }
  out = v;
  return Status::Ok();
}

Status ReadString(const json& value, const std::string& key, std::string& out,
                  const std::string& path) {
  if (!value.is_string()) return Invalid(path, "\"" + key + "\" must be a string");
  out = value.get<std::string>();
  if (out.empty()) return Invalid(path, "\"" + key + "\" must not be empty");
  return Status::Ok();
}

Status ReadAccounts(const json& value, std::vector<Account>& out, const std::string& path) {
  if (!value.is_array()) return Invalid(path, "\"accounts\" must be an array");
  for (const auto& item : value) {
    if (!item.is_object()) return Invalid(path, "each account must be an object");
    Account account;
    for (const auto& [key, member] : item.items()) {
      if (key == "secret_id") {
        CMQ_RETURN_IF_ERROR(ReadString(member, "accounts[].secret_id", account.secret_id, path));
      } else if (key == "secret_key") {
        CMQ_RETURN_IF_ERROR(ReadString(member, "accounts[].secret_key", account.secret_key, path));
      } else {
        return Invalid(path, "unknown key \"accounts[]." + key + "\"");
      }
    }
    if (account.secret_id.empty() || account.secret_key.empty()) {
      return Invalid(path, "an account needs both \"secret_id\" and \"secret_key\"");
    }
    for (const auto& other : out) {
      if (other.secret_id == account.secret_id) {
        return Invalid(path, "duplicate secret_id \"" + account.secret_id + "\"");
      }
    }
    out.push_back(std::move(account));
  }
  return Status::Ok();
}

Status ReadMember(const std::string& key, const json& value, ServerConfig& c,
                  const std::string& path) {
  int64_t n = 0;
  if (key == "http") return ReadString(value, key, c.http, path);
  if (key == "https") return ReadString(value, key, c.https, path);
  if (key == "tls_cert_file") return ReadString(value, key, c.tls_cert_file, path);
  if (key == "tls_key_file") return ReadString(value, key, c.tls_key_file, path);
  if (key == "peer_tls_cert_file") return ReadString(value, key, c.peer_tls_cert_file, path);
  if (key == "peer_tls_key_file") return ReadString(value, key, c.peer_tls_key_file, path);
  if (key == "peer_tls_ca_file") return ReadString(value, key, c.peer_tls_ca_file, path);
  if (key == "data_dir") return ReadString(value, key, c.data_dir, path);
  if (key == "accounts") return ReadAccounts(value, c.accounts, path);
  if (key == "timestamp_window_seconds") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 0, 366LL * 86400, c.timestamp_window_seconds, path));
  } else if (key == "max_body_bytes") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 64 * 1024, 64LL * 1024 * 1024, n, path));
    c.max_body_bytes = static_cast<uint64_t>(n);
  } else if (key == "max_header_bytes") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1024, 1024 * 1024, n, path));
    c.max_header_bytes = static_cast<uint32_t>(n);
  } else if (key == "idle_timeout_seconds") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 86400, c.idle_timeout_seconds, path));
  } else if (key == "write_timeout_seconds") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 3600, c.write_timeout_seconds, path));
  } else if (key == "max_pipelined_requests") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 1024, n, path));
    c.max_pipelined_requests = static_cast<uint32_t>(n);
  } else if (key == "node_id") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 0, int64_t{1} << 62, n, path));
    c.node_id = static_cast<uint64_t>(n);
  } else if (key == "cluster_id") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, int64_t{1} << 62, n, path));
    c.cluster_id = static_cast<uint64_t>(n);
  } else if (key == "peers") {
    CMQ_RETURN_IF_ERROR(ReadString(value, key, c.peers, path));
    if (auto peers = ParsePeerList(c.peers); !peers.ok()) {
      return Invalid(path, "peers: " + peers.status().message());
    }
  } else if (key == "listen") {
    return ReadString(value, key, c.listen, path);
  } else if (key == "groups") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 64, n, path));
    c.groups = static_cast<uint32_t>(n);
  } else if (key == "balance_leaders") {
    if (!value.is_boolean()) return Invalid(path, "balance_leaders: expected true or false");
    c.balance_leaders = value.get<bool>();
  } else if (key == "peer_direct_writes") {
    if (!value.is_boolean()) return Invalid(path, "peer_direct_writes: expected true or false");
    c.peer_direct_writes = value.get<bool>();
  } else if (key == "tcp") {
    return ReadString(value, key, c.tcp, path);
  } else if (key == "tcp_route") {
    if (!value.is_array()) return Invalid(path, "tcp_route: expected an array of \"host:port\"");
    c.tcp_route.clear();
    for (const json& item : value) {
      if (!item.is_string()) return Invalid(path, "tcp_route: expected an array of \"host:port\"");
      c.tcp_route.push_back(item.get<std::string>());
    }
  } else if (key == "tcp_idle_timeout_seconds") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 86400, c.tcp_idle_timeout_seconds, path));
  } else if (key == "tcp_max_inflight") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 1 << 20, n, path));
    c.tcp_max_inflight = static_cast<uint32_t>(n);
  } else if (key == "tcp_max_inflight_pulls") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 1, 1 << 16, n, path));
    c.tcp_max_inflight_pulls = static_cast<uint32_t>(n);
  } else if (key == "io_threads") {
    CMQ_RETURN_IF_ERROR(ReadInt(value, key, 0, 1024, n, path));
    c.io_threads = static_cast<uint32_t>(n);
  } else {
    return Invalid(path, "unknown key \"" + key + "\"");
  }
  return Status::Ok();
}

}  // namespace

Result<std::map<uint64_t, std::pair<std::string, uint16_t>>> ParsePeerList(std::string_view list) {
  std::map<uint64_t, std::pair<std::string, uint16_t>> peers;
  auto bad = [](std::string what) { return Status(ErrorCode::kInvalidArgument, std::move(what)); };
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string_view item = list.substr(pos, comma - pos);
    pos = comma + 1;
    if (item.empty()) {
      if (comma == list.size()) break;
      return bad("empty entry in the peers list");
    }
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return bad("expected ID=HOST:PORT, got '" + std::string(item) + "'");
    uint64_t id = 0;
    std::string_view id_text = item.substr(0, eq);
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id == 0) {
      return bad("bad node id '" + std::string(id_text) + "' (ids are numbers from 1)");
    }
    std::string host;
    uint16_t port = 0;
    if (!SplitHostPort(std::string(item.substr(eq + 1)), host, port) || port == 0) {
      return bad("bad address for node " + std::to_string(id) + ": '" +
                 std::string(item.substr(eq + 1)) + "'");
    }
    if (!peers.emplace(id, std::make_pair(host, port)).second) {
      return bad("node " + std::to_string(id) + " is listed twice");
    }
  }
  if (peers.empty()) return bad("the peers list is empty");
  return peers;
}

Result<ServerConfig> ParseServerConfig(const std::string& json_text, const std::string& path) {
  json doc = json::parse(json_text, /*cb=*/nullptr, /*allow_exceptions=*/false,
                         /*ignore_comments=*/true);
  if (doc.is_discarded()) return Invalid(path, "not valid JSON");
  if (!doc.is_object()) return Invalid(path, "the top level must be a JSON object");
  ServerConfig config;
  for (const auto& [key, value] : doc.items()) {
    CMQ_RETURN_IF_ERROR(ReadMember(key, value, config, path));
  }
  return config;
}

Result<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kIoError, path + ": cannot open the config file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status(ErrorCode::kIoError, path + ": cannot read the config file");
  return ParseServerConfig(text.str(), path);
}

}  // namespace cmq::api
