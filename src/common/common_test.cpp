#include <gtest/gtest.h>

#include <set>

#include "common/ids.h"
#include "common/result.h"
#include "common/text.h"

namespace crm {
namespace {

TEST(Text, FoldsFrenchAccentsAndCase) {
  EXPECT_EQ(FoldForSearch("Hélène"), "helene");
  EXPECT_EQ(FoldForSearch("FRANÇOIS Œuvre"), "francois oeuvre");
  EXPECT_EQ(FoldForSearch("Maître Dupont-Brûlé"), "maitre dupont-brule");
  EXPECT_EQ(FoldForSearch("Straße"), "strasse");
  EXPECT_EQ(FoldForSearch("e\xCC\x81t\xC3\xA9"), "ete");  // combining acute accent
}

TEST(Text, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8("Hélène 😀"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));        // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));    // surrogate
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(Text, ParsesIsoTimes) {
  EXPECT_EQ(ParseIsoTime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoTime("2026-11-25T14:00:00+01:00"), ParseIsoTime("2026-11-25T13:00:00Z"));
  EXPECT_EQ(ParseIsoTime("2026-11-25"), ParseIsoTime("2026-11-25T00:00:00Z"));
  EXPECT_FALSE(ParseIsoTime("2026-02-31T00:00:00Z"));
  EXPECT_FALSE(ParseIsoTime("tomorrow"));
  EXPECT_FALSE(ParseIsoTime("2026-11-25T25:00:00Z"));
  EXPECT_EQ(FormatIsoUtc(*ParseIsoTime("2026-11-25T13:21:26.120Z")), "2026-11-25T13:21:26Z");
  EXPECT_EQ(ParseIsoTime("2026-11-25T14:30:00-01:30"), ParseIsoTime("2026-11-25T16:00:00Z"));
  EXPECT_EQ(ParseIsoTime("2028-02-29T00:00:00Z").has_value(), true);
}

// Every field is exactly its digits: no exception, no sign or space read as a digit.
TEST(Text, RefusesIsoTimesWithNonDigitFields) {
  for (const char* bad :
       {"2026-01-01T00:00:00+ab:cd", "2026-01-01T00:00:00+1a:00", "2026-01-01T00:00:00+ 1:00",
        "2026-01-01T00:00:00++1:00", "2026-01-01T00:00:00+24:00", "2026-01-01T00:00:00+01:60",
        "2026-01-01T00:00:00+01:0", "2026-01-01T00:00:00+0100", "+026-01-01", " 2026-01-01",
        "2026-+1-01", "2026-01- 1", "2026-01-01T+1:00:00Z", "2026-01-01T00:-1:00Z",
        "2026-01-01T00:00:0xZ", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z",
        "2027-02-29", "2026-04-31", "2026-00-10", "2026-01-01X", "2026-01-01T00:00", ""})
    EXPECT_FALSE(ParseIsoTime(bad).has_value()) << bad;
  EXPECT_FALSE(ParseIsoTime(std::string_view("2026-01-01\0T00:00:00Z", 21)).has_value());
}

TEST(Text, ParsesWholeNumbersInARange) {
  EXPECT_EQ(ParseInt("50", 1, 200), 50);
  EXPECT_EQ(ParseInt("-5", -10, 10), -5);
  for (const char* bad : {"", "0", "201", "10x", " 5", "+5", "5.0", "99999999999"})
    EXPECT_FALSE(ParseInt(bad, 1, 200).has_value()) << bad;
}

TEST(Ids, AreUniqueSortableAndWellFormed) {
  ASSERT_TRUE(InitCrypto());
  std::set<std::string> seen;
  std::string prev;
  for (int i = 0; i < 1000; ++i) {
    auto id = NewId();
    EXPECT_EQ(id.size(), 26u);
    EXPECT_TRUE(seen.insert(id).second);
    EXPECT_GT(id, prev);  // strictly increasing, even within one millisecond
    prev = id;
  }
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 inc;
  inc.Update("a", 1);
  inc.Update("bc", 2);
  EXPECT_EQ(inc.FinishHex(), Sha256Hex("abc"));
  EXPECT_EQ(RandomHex(16).size(), 32u);
}

TEST(ResultTest, CarriesValueOrError) {
  Result<int> ok = 3;
  Result<int> bad = NotFound("nope");
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().CodeName(), "not_found");
}

}  // namespace
}  // namespace crm

#include <nlohmann/json.hpp>

#include "common/json_writer.h"

namespace crm {
namespace {
TEST(JsonWriter, MatchesNlohmannOnAwkwardStrings) {
  for (std::string s : {std::string("plain"), std::string("Hélène \"cite\" \\ back"), std::string("tab\tnl\ncr\r"),
                        std::string("\x01\x1f ctrl"), std::string("emoji 😀 œ"), std::string()}) {
    std::string out;
    AppendJsonString(out, s);
    EXPECT_EQ(out, nlohmann::json(s).dump()) << s;
  }
}
}  // namespace
}  // namespace crm
