#include "operators/records/subject_router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mozaiek {
namespace {

Signal make_signal() {
  Signal s;
  s.signal_id = "coa-1";
  s.source = 1;
  s.indicator = 2;
  s.strength = Strength::concrete;
  s.observed_at = event_time_from_ms(1'000);
  s.reported_at = event_time_from_ms(5'000);
  s.subjects = {{SubjectType::person, std::string(64, 'a'), 0, 0},
                {SubjectType::vehicle, "FR-AB123CD", 0, 0},
                {SubjectType::location, "coa-ter-apel", 0, 0},
                {SubjectType::location, "stale-entry-beyond-count", 0, 0}};
  s.subject_count = 3;
  return s;
}

using Co = std::vector<std::pair<SubjectType, std::string>>;

TEST(SubjectRouterTest, OneRoutedSignalPerSubjectWithTheOthersAsCoSubjects) {
  const Signal s = make_signal();
  std::vector<RoutedSignal> out;
  ASSERT_EQ(route_signal(s, event_time_from_ms(900), out), 3u);
  EXPECT_EQ(out[0].subject_type, SubjectType::person);
  EXPECT_EQ(out[0].subject_key, std::string(64, 'a'));
  EXPECT_EQ(out[0].signal_id, "coa-1");
  EXPECT_EQ(out[0].source, 1);
  EXPECT_EQ(out[0].indicator, 2);
  EXPECT_EQ(out[0].strength, Strength::concrete);
  EXPECT_EQ(out[0].observed_at, event_time_from_ms(1'000));
  EXPECT_EQ(out[0].reported_at, event_time_from_ms(5'000));
  EXPECT_EQ(out[0].watermark, event_time_from_ms(900));
  EXPECT_EQ(out[0].co_subjects,
            (Co{{SubjectType::vehicle, "FR-AB123CD"}, {SubjectType::location, "coa-ter-apel"}}));
  EXPECT_EQ(out[1].co_subjects, (Co{{SubjectType::person, std::string(64, 'a')},
                                    {SubjectType::location, "coa-ter-apel"}}));
  EXPECT_EQ(out[2].subject_key, "coa-ter-apel");
}

// No consent (or an indicator outside person_level_indicators, or an
// aggregate_only source): its vehicle and location are not routed either,
// so they can neither score nor link nor show the signal in an alert.
TEST(SubjectRouterTest, NoSubjectIsRoutedWithoutPersonLevel) {
  Signal s = make_signal();
  s.person_level = false;
  std::vector<RoutedSignal> out;
  EXPECT_EQ(route_signal(s, kMinEventTime, out), 0u);
}

TEST(SubjectRouterTest, EachRoutedSignalCarriesItsPurpose) {
  Signal s = make_signal();
  std::vector<RoutedSignal> out;
  ASSERT_EQ(route_signal(s, kMinEventTime, out), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(out[i].purpose, Purpose::investigation);
  s.purposes = purpose_bit(Purpose::care);
  ASSERT_EQ(route_signal(s, kMinEventTime, out), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(out[i].purpose, Purpose::care);
}

TEST(SubjectRouterTest, ASignalForBothPurposesIsRoutedOncePerPurpose) {
  Signal s = make_signal();
  s.purposes = purpose_bit(Purpose::investigation) | purpose_bit(Purpose::care);
  std::vector<RoutedSignal> out;
  ASSERT_EQ(route_signal(s, kMinEventTime, out), 6u);
  EXPECT_EQ(out[0].purpose, Purpose::investigation);
  EXPECT_EQ(out[3].purpose, Purpose::care);
  EXPECT_EQ(out[3].subject_key, out[0].subject_key);
  EXPECT_EQ(out[4].co_subjects, out[1].co_subjects);
}

TEST(SubjectRouterTest, ASubjectNamedTwiceIsRoutedOnce) {
  Signal s = make_signal();
  s.subjects[2] = s.subjects[1];
  std::vector<RoutedSignal> out;
  ASSERT_EQ(route_signal(s, kMinEventTime, out), 2u);
  EXPECT_EQ(out[1].subject_key, "FR-AB123CD");
  EXPECT_EQ(out[1].co_subjects, (Co{{SubjectType::person, std::string(64, 'a')}}));
}

TEST(SubjectRouterTest, ReusesOutputEntries) {
  std::vector<RoutedSignal> out(5);
  out[0].co_subjects.resize(7);
  Signal s = make_signal();
  ASSERT_EQ(route_signal(s, kMinEventTime, out), 3u);
  EXPECT_EQ(out.size(), 5u);
  EXPECT_EQ(out[0].co_subjects.size(), 2u);
  s.subject_count = 1;
  ASSERT_EQ(route_signal(s, kMinEventTime, out), 1u);
  EXPECT_TRUE(out[0].co_subjects.empty());
}

TEST(SubjectRouterTest, RoutingKeyNamesTypeAndKey) {
  std::string key = "stale";
  routing_key(SubjectType::vehicle, "FR-AB123", key);
  EXPECT_EQ(key, "vehicle:FR-AB123");
  routing_key(SubjectType::location, "coa-ter-apel", key);
  EXPECT_EQ(key, "location:coa-ter-apel");
  routing_key(SubjectType::person, "ab12", key);
  EXPECT_EQ(key, "person:ab12");
}

}  // namespace
}  // namespace mozaiek
