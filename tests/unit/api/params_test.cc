#include "api/params.h"

#include <gtest/gtest.h>

namespace cmq::api {
namespace {

RequestParams Form(FormParams form) {
  return RequestParams(std::move(form));
}

HttpRequest Request(std::string method, std::string target, std::string body) {
  HttpRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  return r;
}

TEST(ParamsTest, PostReadsTheBodyWhateverTheContentType) {
  auto p = RequestParams::Parse(Request("POST", "/v2/index.php?x=1", "Action=A&msgBody=a+b%26c"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p.value().Find("msgBody"), "a b&c");
  EXPECT_EQ(p.value().Find("x"), nullptr);
}

TEST(ParamsTest, GetReadsTheQueryString) {
  auto p = RequestParams::Parse(Request("GET", "/?Action=ListQueue&limit=5", ""));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p.value().Find("Action"), "ListQueue");
  EXPECT_EQ(*p.value().Find("limit"), "5");
}

TEST(ParamsTest, DuplicateNamesAreRefused) {
  auto p = RequestParams::Parse(Request("POST", "/", "queueName=a&Action=x&queueName=b"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, 4000);
  EXPECT_EQ(p.error().Message(), "(10330)parameter queueName is NOT a repeatable parameter");
}

TEST(ParamsTest, MalformedEscapeIs10420) {
  auto p = RequestParams::Parse(Request("POST", "/", "a=%zz"));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().module_code, 10420);
}

TEST(ParamsTest, ListFromOneOrderedNumerically) {
  FormParams form;
  for (int i = 12; i >= 1; --i)
    form.emplace_back("msgBody." + std::to_string(i), std::to_string(i));
  RequestParams params = Form(form);  // the list's views point into it
  auto list = params.List("msgBody", 16);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list.value().size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(list.value()[i], std::to_string(i + 1));
}

TEST(ParamsTest, ListFromZero) {
  RequestParams params = Form({{"msgBody.1", "b"}, {"msgBody.0", "a"}});
  auto list = params.List("msgBody", 16);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list.value(), (std::vector<std::string_view>{"a", "b"}));
}

TEST(ParamsTest, ListGapsAreRefused) {
  auto gap = Form({{"msgBody.1", "a"}, {"msgBody.3", "b"}}).List("msgBody", 16);
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().Message(), "(10380)msgBody parameter is not consequent");
  auto late_start = Form({{"msgBody.2", "a"}}).List("msgBody", 16);
  ASSERT_FALSE(late_start.ok());
  EXPECT_EQ(late_start.error().module_code, 10380);
}

TEST(ParamsTest, ListOver16IsRefused) {
  FormParams form;
  for (int i = 1; i <= 17; ++i) form.emplace_back("msgBody." + std::to_string(i), "x");
  auto list = Form(form).List("msgBody", 16);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().Message(), "(10370)msgBody parameter batch size is out of range");
  form.pop_back();
  EXPECT_TRUE(Form(form).List("msgBody", 16).ok());
}

TEST(ParamsTest, EmptyListIsMissing) {
  auto list = Form({{"msgBody", "x"}}).List("msgBody", 16);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().Message(), "(10390)lacked of required parameter msgBody");
}

TEST(ParamsTest, OptionalListAbsentIsNullopt) {
  auto list = Form({{"msgTag", "x"}}).OptionalList("msgTag", 5, TooManyMsgTags());
  ASSERT_TRUE(list.ok());
  EXPECT_FALSE(list.value().has_value());
}

TEST(ParamsTest, OptionalListHasItsOwnTooManyError) {
  FormParams form;
  for (int i = 0; i <= 5; ++i) form.emplace_back("filterTag." + std::to_string(i), "t");
  RequestParams params = Form(form);
  auto six = params.OptionalList("filterTag", 5, TooManyFilterTags());
  ASSERT_FALSE(six.ok());
  EXPECT_EQ(six.error(), TooManyFilterTags());
  form.pop_back();
  RequestParams five_params = Form(form);
  auto five = five_params.OptionalList("filterTag", 5, TooManyFilterTags());
  ASSERT_TRUE(five.ok());
  ASSERT_TRUE(five.value().has_value());
  EXPECT_EQ(five.value()->size(), 5u);
  auto gap = Form({{"bindingKey.1", "a"}, {"bindingKey.3", "b"}})
                 .OptionalList("bindingKey", 5, TooManyBindingKeys());
  ASSERT_FALSE(gap.ok());
  EXPECT_EQ(gap.error().Message(), "(10380)bindingKey parameter is not consequent");
}

TEST(ParamsTest, SameIndexSpelledTwiceIsARepeat) {
  auto list = Form({{"msgBody.1", "a"}, {"msgBody.01", "b"}}).List("msgBody", 16);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.error().module_code, 10330);
}

TEST(ParamsTest, ScalarGivenAsListIsNotRepeatable) {
  auto v = Form({{"queueName.1", "q"}}).Required("queueName");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().module_code, 10330);
}

TEST(ParamsTest, MissingRequired) {
  auto v = Form({}).Required("queueName");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().code, 4000);
  EXPECT_EQ(v.error().Message(), "(10390)lacked of required parameter queueName");
}

TEST(ParamsTest, IntegersAreStrict) {
  for (const char* bad :
       {"", "1.5", " 1", "1 ", "+1", "0x10", "1e3", "abc", "99999999999999999999"}) {
    auto v = Form({{"limit", bad}}).OptionalInt("limit", 0, 100);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.error().Message(), "(10360)parameter limit error type") << bad;
  }
  auto ok = Form({{"limit", "-5"}}).OptionalInt("limit", -10, 100);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok.value(), -5);
  EXPECT_FALSE(Form({}).OptionalInt("limit", 0, 1).value().has_value());
}

TEST(ParamsTest, RangesNameTheParameter) {
  auto v = Form({{"limit", "51"}}).IntOr("limit", 1, 50, 20);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().Message(), "(10350)parameter limit value or length is out of range");
  EXPECT_EQ(Form({}).IntOr("limit", 1, 50, 20).value(), 20);
}

TEST(ParamsTest, ParseIntegerLimits) {
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(ParseInt64("9223372036854775808"));
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUint64("18446744073709551616"));
  EXPECT_FALSE(ParseUint64("-1"));
}

TEST(ParamsTest, QueueNames) {
  EXPECT_TRUE(IsValidQueueName("q"));
  EXPECT_TRUE(IsValidQueueName("Queue-1_a"));
  EXPECT_TRUE(IsValidQueueName(std::string(64, 'a')));
  EXPECT_FALSE(IsValidQueueName(std::string(65, 'a')));
  EXPECT_FALSE(IsValidQueueName(""));
  EXPECT_FALSE(IsValidQueueName("1abc"));
  EXPECT_FALSE(IsValidQueueName("-abc"));
  EXPECT_FALSE(IsValidQueueName("a b"));
  EXPECT_FALSE(IsValidQueueName("a.b"));
}

TEST(ParamsTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("ClearSUbscriptionFIlterTags", "ClearSubscriptionFilterTags"));
  EXPECT_FALSE(EqualsIgnoreCase("SendMessage", "SendMessages"));
}

// FindParam routes a request by one parameter before the full parse: it must read the same
// part of the request Parse reads, and decode what it returns.
TEST(ParamsTest, FindParamReadsOneParameterLikeParse) {
  HttpRequest post;
  post.method = "POST";
  post.target = "/v2/index.php?queueName=fromquery";
  post.body = "Action=SendMessage&msgBody=a%26queueName%3Dx&queue%4Eame=q%2D1";
  EXPECT_EQ(FindParam(post, "queueName"), "q-1");  // the escaped name, not the body's text
  EXPECT_EQ(FindParam(post, "Action"), "SendMessage");
  EXPECT_EQ(FindParam(post, "topicName"), std::nullopt);
  post.body.clear();  // an empty POST body: the query, as Parse does
  EXPECT_EQ(FindParam(post, "queueName"), "fromquery");
  HttpRequest get = post;
  get.method = "GET";
  get.body = "queueName=ignored";
  EXPECT_EQ(FindParam(get, "queueName"), "fromquery");
  HttpRequest bad;
  bad.method = "POST";
  bad.body = "queueName=%zz";
  EXPECT_EQ(FindParam(bad, "queueName"), std::nullopt);
  bad.body = "flag&queueName=";  // a name without '=' and an empty value
  EXPECT_EQ(FindParam(bad, "queueName"), "");
  EXPECT_EQ(FindParam(bad, "flag"), "");
}

}  // namespace
}  // namespace cmq::api
