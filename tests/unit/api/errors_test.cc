#include "api/errors.h"

#include <gtest/gtest.h>

namespace cmq::api {
namespace {

std::pair<int, std::string> Map(ErrorCode code, std::string detail = "") {
  ApiError e = ErrorFromStatus(Status(code, std::move(detail)));
  return {e.code, e.Message()};
}

TEST(ErrorsTest, QueueModelErrorsMapPerSpec) {
  using P = std::pair<int, std::string>;
  EXPECT_EQ(Map(ErrorCode::kQueueNotExist), P(4440, "(10100)queue is not existed, or deleted"));
  EXPECT_EQ(Map(ErrorCode::kQueueExists), P(4460, "(10210)queue is already existed"));
  EXPECT_EQ(Map(ErrorCode::kNoMessage), P(7000, "(10200)no message"));
  EXPECT_EQ(Map(ErrorCode::kReceiptHandleInvalid), P(4430, "(10260)receipt handle is invalid"));
  EXPECT_EQ(Map(ErrorCode::kMessageTooLarge), P(4400, "(10230)exceed maximum message size"));
  EXPECT_EQ(Map(ErrorCode::kHeapFull), P(4410, "(10240)reach maximum retention number of message"));
  EXPECT_EQ(Map(ErrorCode::kBatchTooLarge), P(4470, "(10300)total message size exceed 1MB"));
  EXPECT_EQ(Map(ErrorCode::kTooManyUnacked).first, 6070);
  EXPECT_EQ(Map(ErrorCode::kTooManyUnacked).second.rfind("(10690)", 0), 0u);
  EXPECT_EQ(Map(ErrorCode::kRewindDisabled), P(6050, "(10670)your queue cannot be rewinded"));
  EXPECT_EQ(Map(ErrorCode::kDelayOutOfRange), P(4000, "(10692)delay seconds is out of range"));
  EXPECT_EQ(Map(ErrorCode::kQueueLimitReached),
            P(4450, "(10220)number of queues has reached the limit"));
}

TEST(ErrorsTest, TopicModelErrorsMapPerSpec) {
  using P = std::pair<int, std::string>;
  EXPECT_EQ(Map(ErrorCode::kTopicNotExist), P(4440, "(10600)topic is not existed, or deleted"));
  EXPECT_EQ(Map(ErrorCode::kTopicExists), P(4460, "(10550)topic is already existed"));
  EXPECT_EQ(Map(ErrorCode::kSubscriptionExists), P(4490, "(10470)subscribtion is already existed"));
  EXPECT_EQ(Map(ErrorCode::kSubscriptionNotExist), P(4440, "(10620)subscription is not existed"));
  EXPECT_EQ(Map(ErrorCode::kTopicHasSubscriptions),
            P(4000,
              "(10540)there exists subscriptions under this topic, please unsubscribe all of them "
              "before DeleteTopic"));
  EXPECT_EQ(Map(ErrorCode::kTopicLimitReached),
            P(4450, "(10610)number of topics has reached the limit"));
  EXPECT_EQ(Map(ErrorCode::kSubscriptionLimitReached),
            P(4500, "(10480)number of subscription has reached the limit"));
  EXPECT_EQ(Map(ErrorCode::kTopicNoSubscription),
            P(6030,
              "(10650)topic has no subscription, please create a subscription before publishing "
              "message"));
  EXPECT_EQ(Map(ErrorCode::kNoMatchingSubscription),
            P(6030, "(10730)no bindingKey or filterTag matches the routingKey or msgTag"));
}

TEST(ErrorsTest, TopicParameterErrorTexts) {
  using P = std::pair<int, std::string>;
  auto pair = [](const ApiError& e) { return P(e.code, e.Message()); };
  EXPECT_EQ(pair(TopicNameFormat()), P(4000, "(10590)topic name format error"));
  EXPECT_EQ(pair(SubscriptionNameFormat()), P(4000, "(10590)subscription name format error"));
  EXPECT_EQ(pair(TooManyFilterTags()), P(4000, "(10490)number of filterTag exceed limit"));
  EXPECT_EQ(pair(EndpointFormat()), P(4000, "(10500)endpoint format error"));
  EXPECT_EQ(pair(UndefinedProtocol()), P(4000, "(10510)undefined protocol"));
  EXPECT_EQ(pair(UndefinedNotifyStrategy()), P(4000, "(10520)undefined notify retry stragety"));
  EXPECT_EQ(pair(UndefinedNotifyContentFormat()),
            P(4000, "(10530)undefined notify content format"));
  EXPECT_EQ(pair(TooManyBindingKeys()), P(4000, "(10680)too many bindingKey"));
  EXPECT_EQ(pair(TooManyDelimiters()), P(4000, "(10691)too many delimeters"));
  EXPECT_EQ(pair(MissingRoutingKey()), P(4000, "(10700)parameters lack of routingKey"));
  EXPECT_EQ(pair(TooManyMsgTags()), P(4000, "(10720)too many msgTag"));
  EXPECT_EQ(pair(EndpointHasBlanks()), P(4510, "(10570)url cannot contain any blank characters"));
}

TEST(ErrorsTest, InvalidArgumentIs10350WithDetail) {
  auto [code, message] = Map(ErrorCode::kInvalidArgument, "rewindSeconds > msgRetentionSeconds");
  EXPECT_EQ(code, 4000);
  EXPECT_EQ(message.rfind("(10350)", 0), 0u);
  EXPECT_NE(message.find("rewindSeconds > msgRetentionSeconds"), std::string::npos);
}

TEST(ErrorsTest, InternalFailuresAre6000) {
  for (ErrorCode c : {ErrorCode::kUnavailable, ErrorCode::kIoError, ErrorCode::kLogFailed,
                      ErrorCode::kNoSpace, ErrorCode::kInternal, ErrorCode::kCorruption}) {
    auto [code, message] = Map(c, "disk on fire");
    EXPECT_EQ(code, 6000);
    EXPECT_EQ(message, "(10050)server internal error: disk on fire");
  }
  EXPECT_EQ(Map(ErrorCode::kUnavailable).second, "(10050)server internal error");
}

TEST(ErrorsTest, RequestErrorTexts) {
  EXPECT_EQ(UnknownAction("Foo").Message(), "(10430)action name Foo is not existed");
  EXPECT_EQ(UnknownAction("Foo").code, 4000);
  EXPECT_EQ(MissingAction().Message(), "(10280)action is not existed");
  EXPECT_EQ(MethodNotAllowed("PUT").Message(),
            "(10410)unexpected http PUT only GET or POST is supported");
  EXPECT_EQ(AuthenticationFailed("").Message(), "(10030)authentication failed");
  EXPECT_EQ(AuthenticationFailed("").code, 4100);
  EXPECT_EQ(UnknownSecretId().code, 4100);
  EXPECT_EQ(UnknownSecretId().module_code, 10270);
  EXPECT_EQ(ReceiptHandleMalformed().Message(), "(10470)receiptHandle error");
  EXPECT_EQ(DeletePartiallyFailed().code, 6010);
  EXPECT_EQ(DeletePartiallyFailed().Message(), "(10150)delete message partially failed");
  EXPECT_EQ(QueueNameFormat().Message(), "(10020)queue name format error");
}

}  // namespace
}  // namespace cmq::api
