// The watermark read from an internal record without decoding it is the one
// the codecs wrote; records without one, and broken ones, have none.
#include "operators/records/internal_time.h"

#include <gtest/gtest.h>

#include "operators/records/chain_codec.h"
#include "operators/records/entity_notice.h"
#include "operators/records/routed_codec.h"

namespace mozaiek {
namespace {

constexpr std::int64_t kStamp = 1'709'300'000'000;

OperatorConfig config() {
  OperatorConfig c;
  c.catalogue.add({"visitor_vehicle", Strength::soft, 2.0, 7, 0});
  SourcePolicy coa;
  coa.name = "coa";
  c.sources = {coa};
  c.age_groups = {"adult", "unknown"};
  c.nationality_regions = {"eu", "unknown"};
  return c;
}

TEST(InternalTimeTest, ARoutedSignalCarriesTheWatermarkItWasEncodedWith) {
  RoutedSignal r;
  r.subject_type = SubjectType::vehicle;
  r.subject_key = "FR-AB123CD";
  r.signal_id = "coa-17";
  r.source = 0;
  r.indicator = 0;
  r.observed_at = event_time_from_ms(kStamp - 86'400'000);
  r.reported_at = event_time_from_ms(kStamp + 5);
  r.watermark = event_time_from_ms(kStamp);
  r.co_subjects = {{SubjectType::person, std::string(64, 'f')}};
  std::string bytes;
  encode_routed(r, config(), bytes);
  EXPECT_EQ(internal_record_watermark(bytes), event_time_from_ms(kStamp));
  // Cut before the watermark (inside the subject key, or right before the
  // co-subjects start): none; the co-subjects after it are not needed.
  EXPECT_EQ(internal_record_watermark(bytes.substr(0, 10)), std::nullopt);
  const std::size_t co_subjects = bytes.size() - 1 - 1 - 1 - 64;  // count, type, length, key
  EXPECT_EQ(internal_record_watermark(bytes.substr(0, co_subjects)), event_time_from_ms(kStamp));
  EXPECT_EQ(internal_record_watermark(bytes.substr(0, co_subjects - 1)), std::nullopt);
}

TEST(InternalTimeTest, ARoutedChainEventCarriesTheWatermarkItWasEncodedWith) {
  RoutedChainEvent r;
  r.entity = ChainEntity::melding;
  r.entity_key = "m-1";
  r.watermark = event_time_from_ms(kStamp - 7);
  r.event.event_id = "e-1";
  r.event.org = "coa";
  r.event.melding_id = "m-1";
  r.event.at = event_time_from_ms(kStamp - 1000);
  r.event.reported_at = event_time_from_ms(kStamp);
  std::string bytes;
  encode_routed_chain(r, config(), bytes);
  EXPECT_EQ(internal_record_watermark(bytes), event_time_from_ms(kStamp - 7));
}

TEST(InternalTimeTest, NoticesAndUnknownRecordsHaveNone) {
  EntityNotice n;
  n.to_type = SubjectType::person;
  n.to_key = std::string(64, 'a');
  std::string bytes;
  encode_notice(n, bytes);
  EXPECT_EQ(internal_record_watermark(bytes), std::nullopt);
  EXPECT_EQ(internal_record_watermark(""), std::nullopt);
  EXPECT_EQ(internal_record_watermark(std::string("\x09rest", 5)), std::nullopt);
}

}  // namespace
}  // namespace mozaiek
