#pragma once
// The data commands of the CMQ TCP protocol (spec/cmq-tcp-protocol.md §6), served where
// the request's group is led (the TCP listener hands them on like HTTP requests, through
// forwarding when another node leads). Each command runs as the HTTP action of the same
// meaning (SendMessage for 1021, BatchDeleteMessage for 1026, ...), so that validation,
// limits and error codes are the same on both protocols; its JSON answer is turned into
// the CMQProto answer. Two exceptions: sends, the hot path, share only the validation
// (SendCommandOf) and answer their ids directly; pulls answer message bodies, which must
// travel byte for byte (JSON would replace invalid UTF-8), and take the TCP-only per-pull
// visibility timeout.
//
// A failure answers `result` = the HTTP code (4440 no such queue, ...) and `error` = the
// HTTP message "(module)text"; an empty pull answers 10200, which the SDK's subscribe loop
// looks for (§7).
//
// Transaction messages (§6.9): a send with is_transaction = 1 becomes a SendHalfMessages
// command carrying the connection's client id (HttpRequest::tcp_client_id); a 1041 confirm
// becomes ConfirmTransaction commands. Its answer is made but never written (one-way).

#include <string>
#include <string_view>

#include "api/actions.h"
#include "api/errors.h"
#include "api/request.h"
#include "proto/cmq.pb.h"

namespace cmq::api {

// Command numbers (CMQ_CMD in src/proto/cmq.proto).
inline constexpr int kTcpAuth = 1020;
inline constexpr int kTcpSend = 1021;
inline constexpr int kTcpBatchSend = 1022;
inline constexpr int kTcpPull = 1023;
inline constexpr int kTcpBatchPull = 1024;
inline constexpr int kTcpDelete = 1025;
inline constexpr int kTcpBatchDelete = 1026;
inline constexpr int kTcpPublish = 1027;
inline constexpr int kTcpBatchPublish = 1028;
inline constexpr int kTcpHeartbeat = 1040;
inline constexpr int kTcpTransactionConfirm = 1041;
inline constexpr int kTcpTransactionQuery = 1042;  // check-back, server to client
// Result codes of the TCP protocol that are not HTTP codes (§7).
inline constexpr int kTcpResultNotAuthed = 306;
inline constexpr int kTcpResultNoMessage = 10200;
// The HttpResponse::status of a TCP answer to a request that could not be served now for
// want of a leader (ApiError::unavailable): the official SDK retries a send only when it
// gets no answer, and one version of its subscribe loop stops for good on any pull result
// but 0 and 10200 (spec §4.2: shed with a closed connection, not an error code). So the
// listener closes the connection instead of answering it, and a pull answers 10200. It
// travels with forwarded answers (their status field); nothing else is sent with it.
inline constexpr int kTcpUnavailableStatus = 503;

// The answer "no message" to a pull (result 10200, error "(10200)no message").
tcp::CMQProto TcpNoMessageAnswer(const tcp::CMQProto& request);

// 1021..1028 and 1041: the commands that run at the group's leader (1041, the one-way
// transaction confirm, is never answered on the connection).
bool IsTcpDataCommand(int cmd);
// The queue or topic a data command names ("" if its body is missing).
std::string_view TcpRouteName(const tcp::CMQProto& request);

// Serves request (request.tcp; body: a serialized CMQProto holding a data command) and
// answers with a serialized CMQProto that echoes its seqno and cmd.
void HandleTcpRequest(const ActionContext& ctx, const HttpRequest& request, ResponseCallback done);

// The answer for a request that did not run (a failed forward): error, with the seqno and
// cmd of request_body (0 when it cannot be read); status kTcpUnavailableStatus when the
// error is unavailable.
HttpResponse TcpErrorResponse(std::string_view request_body, const ApiError& error);

// An answer with seqno and cmd set and result 0, for the caller to fill.
tcp::CMQProto TcpAnswerTo(const tcp::CMQProto& request);
void SetTcpError(tcp::CMQProto& answer, const ApiError& error);

}  // namespace cmq::api
