// runtime/json_input: what every reader of hand-written JSON (scenario files, fleet files,
// control-plane bodies) builds its messages on.
#include "runtime/json_input.h"

#include <gtest/gtest.h>

namespace nukihil {
namespace {

using nlohmann::json;

TEST(JsonInput, ParsesValidTextWhole) {
  JsonSyntaxError why;
  auto j = parseJson(R"({"a": [1, 2], "b": "x"})", why);
  ASSERT_TRUE(j);
  EXPECT_EQ(*j, json({{"a", {1, 2}}, {"b", "x"}}));
  EXPECT_EQ(why.line, 0);
}

TEST(JsonInput, ASyntaxErrorSaysItsLineAndColumnCountingCharacters) {
  JsonSyntaxError why;
  // The parser stops at the '}' on line 3; "é" before it is one character, two bytes.
  EXPECT_FALSE(parseJson("{\n  \"a\": 1,\n  \"é\" }", why));
  EXPECT_EQ(why.line, 3);
  EXPECT_EQ(why.column, 7);
  EXPECT_EQ(why.what.rfind("syntax error while parsing object", 0), 0u) << why.what;
  EXPECT_EQ(why.text(), "line 3, column 7: " + why.what);

  std::string text;
  EXPECT_FALSE(parseJsonText("{\n  \"a\": 1,\n  \"é\" }", text));
  EXPECT_EQ(text, why.text());
}

TEST(JsonInput, EmptyTextIsAnErrorAtItsStart) {
  std::string why;
  EXPECT_FALSE(parseJsonText("", why));
  EXPECT_EQ(why.rfind("line 1, column 1: syntax error while parsing value", 0), 0u) << why;
}

TEST(JsonInput, ANumberNoDoubleHoldsIsBadInputWithoutAPlace) {
  JsonSyntaxError why;
  EXPECT_FALSE(parseJson("[1e999]", why));
  EXPECT_EQ(why.line, 0);
  EXPECT_NE(why.what.find("1e999"), std::string::npos) << why.what;
  EXPECT_EQ(why.what.find("[json.exception"), std::string::npos) << why.what;
  EXPECT_EQ(why.text(), why.what);
}

TEST(JsonInput, CommentsAreNotJson) {
  JsonSyntaxError why;
  EXPECT_FALSE(parseJson("{} // no", why));
  EXPECT_EQ(why.line, 1);
}

TEST(JsonInput, TheCallbackSeesTheParse) {
  JsonSyntaxError why;
  std::vector<std::string> keys;
  json::parser_callback_t cb = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key) keys.push_back(parsed.get<std::string>());
    return true;
  };
  ASSERT_TRUE(parseJson(R"({"a":1,"a":2,"b":{"c":3}})", why, cb));
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "a", "b", "c"}));
}

TEST(JsonInput, NearestNameFindsATypo) {
  const std::vector<std::string_view> known = {"seconds", "to", "allowedWeekDays", "accounts"};
  EXPECT_EQ(nearestName("secnds", known), "seconds");
  EXPECT_EQ(nearestName("allowedWeekdays", known), "allowedWeekDays");
  EXPECT_EQ(nearestName("acounts", known), "accounts");
  EXPECT_EQ(nearestName("zebra", known), "");
  EXPECT_EQ(nearestName("x", std::vector<std::string_view>{}), "");
}

TEST(JsonInput, NearestNameFallsBackToContainment) {
  const std::vector<std::string_view> known = {"smartlocks", "generate"};
  // Too far for a typo, but one contains the other (ignoring case), three letters or more.
  EXPECT_EQ(nearestName("SMARTLOCKSandMore", known), "smartlocks");
  EXPECT_EQ(nearestName("lock", known), "smartlocks");
  EXPECT_EQ(nearestName("lo", known), "");
}

TEST(JsonInput, LetterCaseCountsHalfAnEditOrNothing) {
  // "abc": "ABC" is three case changes away, "abd" one edit.
  const std::vector<std::string> known = {"ABC", "abd"};
  EXPECT_EQ(nearestName("abc", known), "abd");
  EXPECT_EQ(nearestName("abc", known, LetterCase::kFree), "ABC");
  // A word in capitals: too far in half edits, caught by containment; free of cost otherwise.
  const std::vector<std::string> keys = {"motorSeconds", "syncAt"};
  EXPECT_EQ(nearestName("MOTORSECONDS", keys), "motorSeconds");
  EXPECT_EQ(nearestName("SYNCAT", keys, LetterCase::kFree), "syncAt");
}

TEST(JsonInput, UnknownFieldNamesThePathAndTheNearestKey) {
  const std::vector<std::string_view> known = {"name", "code"};
  EXPECT_EQ(unknownField(json{{"name", "x"}, {"code", 1}}, "", known), "");
  EXPECT_EQ(unknownField(json{{"cod", 1}}, "", known), "unknown field 'cod' (code?)");
  EXPECT_EQ(unknownField(json{{"zzzzzzz", 1}}, "codes[1]", known),
            "codes[1]: unknown field 'zzzzzzz'");
  EXPECT_EQ(unknownField(json::array(), "", known), "") << "not an object: not this check's";
}

TEST(JsonInput, ALongUnknownKeyIsShownCutAtACharacterBoundary) {
  const std::string key = std::string(63, 'k') + "é" + "tail";
  const std::string message = unknownField(json{{key, 1}}, "", {"name"});
  EXPECT_EQ(message, "unknown field '" + std::string(63, 'k') + "…'");
}

}  // namespace
}  // namespace nukihil
