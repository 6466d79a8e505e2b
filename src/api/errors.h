#pragma once
// CMQ's public errors (spec §6): a coarse `code` for the JSON envelope, a module code and a
// text that form the `message` "(module)text". Every error the api/ layer answers goes
// through here, so the texts stay exactly as documented.

#include <string>
#include <string_view>

#include "common/status.h"

namespace cmq::api {

struct ApiError {
  int code = 0;         // the envelope's `code`
  int module_code = 0;  // the number in parentheses of `message`
  std::string text;     // the text after it
  // The request could not be served now (no leader for its group, leadership moving, the
  // node stopping) and may be retried; the TCP listener does not answer it (see
  // kTcpUnavailableStatus).
  bool unavailable = false;
  // "(module)text".
  std::string Message() const;
  bool operator==(const ApiError&) const = default;
};

// Maps a Status from mq/ or cluster/ (spec §6 tables). Internal failures become 6000
// "(10050)server internal error: <detail>".
ApiError ErrorFromStatus(const Status& status);

// Parameter and request errors (common table of §6). %s in the documented text is the
// parameter's or action's name.
ApiError InvalidParameters(std::string_view detail);      // 4000 (10000)
ApiError NotRepeatable(std::string_view name);            // 4000 (10330)
ApiError OutOfRange(std::string_view name);               // 4000 (10350)
ApiError WrongType(std::string_view name);                // 4000 (10360)
ApiError BatchSizeOutOfRange(std::string_view name);      // 4000 (10370)
ApiError NotConsecutive(std::string_view name);           // 4000 (10380)
ApiError MissingParameter(std::string_view name);         // 4000 (10390)
ApiError MethodNotAllowed(std::string_view method);       // 4000 (10410)
ApiError RequestTooLarge();                               // 4000 (10420)
ApiError MissingAction();                                 // 4000 (10280)
ApiError UnknownAction(std::string_view action);          // 4000 (10430)
ApiError AuthenticationFailed(std::string_view detail);   // 4100 (10030)
ApiError UnknownSecretId();                               // 4100 (10270)
ApiError QueueNameFormat();                               // 4000 (10020)
ApiError EmptyMessageBody();                              // 4000 (10120)
ApiError DelayOutOfRange();                               // 4000 (10692)
ApiError MessageTooLarge();                               // 4400 (10230)
ApiError BatchTooLarge();                                 // 4470 (10300)
ApiError ReceiptHandleMalformed();                        // 4000 (10470)
ApiError DeletePartiallyFailed();                         // 6010 (10150)
ApiError TransactionNotAllowed(std::string_view detail);  // 4490 (10780)

// Topics and subscriptions (topic table of §6).
ApiError TopicNameFormat();               // 4000 (10590) topic name format error
ApiError SubscriptionNameFormat();        // 4000 (10590) subscription name format error
ApiError TooManyFilterTags();             // 4000 (10490)
ApiError EndpointFormat();                // 4000 (10500)
ApiError UndefinedProtocol();             // 4000 (10510)
ApiError UndefinedNotifyStrategy();       // 4000 (10520)
ApiError UndefinedNotifyContentFormat();  // 4000 (10530)
ApiError TooManyBindingKeys();            // 4000 (10680)
ApiError TooManyDelimiters();             // 4000 (10691)
ApiError MissingRoutingKey();             // 4000 (10700)
ApiError TooManyMsgTags();                // 4000 (10720)
ApiError EndpointHasBlanks();             // 4510 (10570)

}  // namespace cmq::api
