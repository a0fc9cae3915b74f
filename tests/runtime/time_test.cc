#include <gtest/gtest.h>

#include "runtime/time.h"
#include "runtime/time_zone.h"

namespace nukihil {
namespace {

using namespace std::chrono_literals;

TEST(Rfc3339, FormatsWithMillisecondsInUtc) {
  EXPECT_EQ(formatRfc3339(timeFromMillis(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(formatRfc3339(timeFromMillis(1735689600123)), "2025-01-01T00:00:00.123Z");
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(parseRfc3339("2025-01-01T00:00:00Z"), timeFromMillis(1735689600000));
  EXPECT_EQ(parseRfc3339("2025-01-01T01:00:00+01:00"), timeFromMillis(1735689600000));
  EXPECT_EQ(parseRfc3339("2024-12-31T23:00:00.5-01:00"), timeFromMillis(1735689600500));
  EXPECT_EQ(parseRfc3339("2025-01-01t00:00:00.123456z"), timeFromMillis(1735689600123));
}

TEST(Rfc3339, RejectsWhatIsNotOne) {
  for (const char* bad :
       {"", "2025-01-01", "2025-01-01T00:00:00", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z",
        "2025-01-01T24:00:00Z", "2025-01-01T00:00:00+0100", "2025-01-01T00:00:00Zjunk",
        "2025-01-01T00:00:00.Z", "abcd-01-01T00:00:00Z"})
    EXPECT_FALSE(parseRfc3339(bad)) << bad;
}

TEST(TimeZone, UnknownZonesAreNull) {
  EXPECT_EQ(TimeZone::find("Mars/Olympus_Mons"), nullptr);
  ASSERT_NE(TimeZone::find("Europe/Berlin"), nullptr);
}

TEST(TimeZone, LocalTimeFollowsDaylightSaving) {
  const TimeZone* berlin = TimeZone::find("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  // 2025-03-30 01:30 UTC = 03:30 CEST (after the spring-forward at 01:00 UTC).
  auto t = *parseRfc3339("2025-03-30T01:30:00Z");
  auto local = berlin->toLocal(t);
  EXPECT_EQ(local.minuteOfDay, 3 * 60 + 30);
  EXPECT_EQ(local.weekday, 6);  // Sunday
  // Winter: 2025-01-06 (Monday) 07:00 UTC = 08:00 CET.
  local = berlin->toLocal(*parseRfc3339("2025-01-06T07:00:00Z"));
  EXPECT_EQ(local.minuteOfDay, 8 * 60);
  EXPECT_EQ(local.weekday, 0);
}

TEST(TimeZone, SkippedLocalTimesMapToTheEndOfTheGapAndRepeatedOnesToTheFirst) {
  const TimeZone* berlin = TimeZone::find("Europe/Berlin");
  ASSERT_NE(berlin, nullptr);
  const auto springDay = berlin->toLocal(*parseRfc3339("2025-03-30T12:00:00Z")).day;
  // 02:30 does not exist on 2025-03-30 in Berlin: the first instant after the gap is 01:00 UTC.
  EXPECT_EQ(formatRfc3339(berlin->fromLocal(springDay, 150)), "2025-03-30T01:00:00.000Z");
  const auto fallDay = berlin->toLocal(*parseRfc3339("2025-10-26T12:00:00Z")).day;
  // 02:30 happens twice on 2025-10-26: first at 00:30 UTC (CEST).
  EXPECT_EQ(formatRfc3339(berlin->fromLocal(fallDay, 150)), "2025-10-26T00:30:00.000Z");
}

}  // namespace
}  // namespace nukihil
