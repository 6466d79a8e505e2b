#include "api/group_fanout.h"

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/json_writer.h"
#include "cluster/group_router.h"
#include "common/url.h"
#include "mq/placement.h"

namespace cmq::api {
namespace {

// An internal request (no signature: it travels between nodes only); GroupAccess::run pins
// it to its group.
HttpRequest InternalRequest(const FormParams& form) {
  HttpRequest r;
  r.internal = true;
  r.method = "POST";
  r.target = "/v2/index.php";
  r.body = EncodeForm(form);
  return r;
}

// Collects one answer per group, then calls finish with them (index g - 1 for group g).
struct Gather {
  std::mutex mu;
  std::vector<std::string> bodies;
  size_t waiting = 0;
  std::function<void(std::vector<std::string>&)> finish;

  void Add(uint32_t group, std::string body) {
    {
      std::lock_guard lock(mu);
      bodies[group - 1] = std::move(body);
      if (--waiting != 0) return;
    }
    finish(bodies);
  }
};

void Ask(const ActionContext& ctx, const FormParams& form,
         std::function<void(std::vector<std::string>&)> finish) {
  auto gather = std::make_shared<Gather>();
  const uint32_t n = ctx.groups->count;
  gather->bodies.resize(n);
  gather->waiting = n;
  gather->finish = std::move(finish);
  for (uint32_t g = 1; g <= n; ++g) {
    ctx.groups->run(g, InternalRequest(form),
                    [gather, g](HttpResponse r) { gather->Add(g, std::move(r.body)); });
  }
}

ApiError Retry(std::string_view what) {
  return ErrorFromStatus(Status(ErrorCode::kUnavailable, std::string(what) + "; retry"));
}

}  // namespace

std::optional<ApiError> ErrorInAnswer(std::string_view json_body) {
  auto j = nlohmann::json::parse(json_body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("code") || !j["code"].is_number_integer()) {
    return Retry("malformed answer from another node");
  }
  const int code = j["code"].get<int>();
  if (code == 0) return std::nullopt;
  ApiError e;
  e.code = code;
  std::string message =
      j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>() : "";
  // "(module)text"
  if (message.size() > 2 && message[0] == '(') {
    const size_t close = message.find(')');
    if (close != std::string::npos) {
      try {
        e.module_code = std::stoi(message.substr(1, close - 1));
        e.text = message.substr(close + 1);
        return e;
      } catch (const std::exception&) {
      }
    }
  }
  e.text = message;
  return e;
}

void FanOutList(const ActionContext& ctx, std::string_view action, const PageParams& page,
                std::string_view list_key, std::string_view id_key, std::string_view name_key,
                Reply reply) {
  FormParams form = {{"Action", std::string(action)},
                     {"searchWord", page.search_word},
                     {"offset", "0"},
                     // Each group's first offset + limit (at most what a limit may be).
                     {"limit", std::to_string(std::min<uint64_t>(
                                   cluster::PrefixFor(page.offset, page.limit), INT64_MAX))}};
  Ask(ctx, form,
      [reply = std::move(reply), page, list_key = std::string(list_key),
       id_key = std::string(id_key),
       name_key = std::string(name_key)](std::vector<std::string>& bodies) mutable {
        uint64_t total = 0;
        std::vector<cluster::NamedItems> parts;
        for (const std::string& body : bodies) {
          if (auto error = ErrorInAnswer(body)) return reply.Fail(*error);
          auto j = nlohmann::json::parse(body, nullptr, false);
          // Another node's answer is checked like any input: a peer of another version
          // or a damaged answer must not throw on this thread.
          if (!j.contains(list_key) || !j[list_key].is_array() ||
              !j["totalCount"].is_number_unsigned()) {
            return reply.Fail(Retry("malformed list from another node"));
          }
          total += j["totalCount"].get<uint64_t>();
          cluster::NamedItems items;
          for (const auto& item : j[list_key]) {
            if (!item.is_object() || !item.contains(id_key) || !item[id_key].is_string() ||
                !item.contains(name_key) || !item[name_key].is_string()) {
              return reply.Fail(Retry("malformed list from another node"));
            }
            items.emplace_back(item[id_key].get<std::string>(), item[name_key].get<std::string>());
          }
          parts.push_back(std::move(items));
        }
        SendIdNameList(reply, total, list_key, id_key, name_key,
                       cluster::MergePage(std::move(parts), page.offset, page.limit));
      });
}

void FanOutStatus(const ActionContext& ctx, Reply reply) {
  Ask(ctx, {{"Action", "ClusterStatus"}},
      [reply = std::move(reply)](std::vector<std::string>& bodies) mutable {
        nlohmann::json groups = nlohmann::json::array();
        for (const std::string& body : bodies) {
          if (auto error = ErrorInAnswer(body)) return reply.Fail(*error);
          auto j = nlohmann::json::parse(body, nullptr, false);
          if (!j.contains("groups") || !j["groups"].is_array()) {
            return reply.Fail(Retry("malformed status from another node"));
          }
          for (auto& g : j["groups"]) groups.push_back(std::move(g));
        }
        std::string out;
        JsonWriter w(out);
        reply.BeginEnvelope(w, 0, "");
        w.Key("groups").Raw(groups.dump());
        w.EndObject();
        reply.Send(std::move(out));
      });
}

void CheckQueueElsewhere(const ActionContext& ctx, std::string queue_name, Reply reply,
                         std::function<void(Reply)> then) {
  const uint32_t group = mq::GroupOfName(queue_name, ctx.groups->count);
  ctx.groups->run(group,
                  InternalRequest({{"Action", "GetQueueAttributes"}, {"queueName", queue_name}}),
                  [reply = std::move(reply), then = std::move(then)](HttpResponse r) mutable {
                    if (auto error = ErrorInAnswer(r.body)) return reply.Fail(*error);
                    then(std::move(reply));
                  });
}

void EnqueueInGroup(const GroupAccess& groups, uint32_t group, std::string queue_name,
                    std::string body, std::function<void(Status)> done) {
  groups.run(group,
             InternalRequest({{"Action", "SendMessage"},
                              {"queueName", std::move(queue_name)},
                              {"msgBody", std::move(body)}}),
             [done = std::move(done)](HttpResponse r) {
               auto error = ErrorInAnswer(r.body);
               if (!error) return done(Status());
               // 6000 is CMQ's "server internal error": here, a failover or no leader.
               const ErrorCode code =
                   error->code == 6000 ? ErrorCode::kUnavailable : ErrorCode::kInvalidArgument;
               done(Status(code, error->Message()));
             });
}

}  // namespace cmq::api
