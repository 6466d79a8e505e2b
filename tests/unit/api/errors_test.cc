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
