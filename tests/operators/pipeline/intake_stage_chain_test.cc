// Partners write chain events only as themselves: on chain.<org> the event's
// org must be <org>; on the shared topic it must be the partner the topic
// belongs to. A mismatch is dead-lettered as org_mismatch.
#include <gtest/gtest.h>

#include "operators/pipeline/intake_stage.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

std::string chain_event(const std::string& org, const std::string& id) {
  return R"({"schema":"mozaiek.chain/v1","at":"2025-03-01T10:00:00Z","reported_at":"2025-03-01T12:00:00Z","org":")" +
         org + R"(","event_id":")" + id +
         R"(","type":"melding.feedback","melding_id":"M-1","to":"police","outcome":"arrest"})";
}

class RecordingOutput final : public IntakeOutput {
 public:
  void on_routed(const RoutedSignal&) override {}
  void on_routed_chain(const RoutedChainEvent&) override { ++routed; }
  void on_rejected(const Rejection& r, const RecordView&) override { rejected.push_back(r); }
  int routed = 0;
  std::vector<Rejection> rejected;
};

class IntakeStageChainTest : public ::testing::Test {
 protected:
  explicit IntakeStageChainTest(std::string shared_org = "") : shared_org_(std::move(shared_org)) {}
  void feed(const std::string& topic, const std::string& value) {
    RecordView r;
    r.topic = topic;
    r.value = value;
    stage_.process(r);
  }
  Settings settings_ = shipped_settings();
  Pseudonymiser pseudonymiser_{"intake-stage-chain-test-key"};
  ManualClock clock_{SystemClock().now()};
  RecordingOutput out_;
  std::string shared_org_;
  IntakeStage stage_{settings_.operators, pseudonymiser_, clock_,     "signals.", out_,
                     "chain.events",      "chain.",       shared_org_};
};

TEST_F(IntakeStageChainTest, PartnerTopicAcceptsItsOwnOrgAndDeadLettersAnother) {
  feed("chain.coa", chain_event("coa", "e1"));
  EXPECT_EQ(out_.routed, 1);
  EXPECT_TRUE(out_.rejected.empty());

  // The police producer writes as COA on its own topic: refused.
  feed("chain.police", chain_event("coa", "e2"));
  EXPECT_EQ(out_.routed, 1);
  ASSERT_EQ(out_.rejected.size(), 1u);
  EXPECT_EQ(out_.rejected[0].reason, DlqReason::org_mismatch);
  EXPECT_EQ(out_.rejected[0].detail, "org");
  // Counted under the sender's source, as a DLQ record.
  const auto police = settings_.operators.find_source("police");
  ASSERT_TRUE(police);
  EXPECT_EQ(stage_.counters().dlq[*police][static_cast<std::size_t>(DlqReason::org_mismatch)], 1u);
}

TEST_F(IntakeStageChainTest, SharedTopicWithoutOwnerAcceptsAnyOrg) {
  feed("chain.events", chain_event("coa", "e1"));
  feed("chain.events", chain_event("police", "e2"));
  EXPECT_EQ(out_.routed, 2);
  EXPECT_TRUE(out_.rejected.empty());
}

class OwnedSharedTopicTest : public IntakeStageChainTest {
 protected:
  OwnedSharedTopicTest() : IntakeStageChainTest("coa") {}
};

TEST_F(OwnedSharedTopicTest, SharedTopicAcceptsOnlyTheOrgItBelongsTo) {
  feed("chain.events", chain_event("coa", "e1"));
  feed("chain.events", chain_event("police", "e2"));
  EXPECT_EQ(out_.routed, 1);
  ASSERT_EQ(out_.rejected.size(), 1u);
  EXPECT_EQ(out_.rejected[0].reason, DlqReason::org_mismatch);
}

TEST_F(IntakeStageChainTest, FilesCarryNoTopicAndAreNotCheckedAgainstOne) {
  feed("", chain_event("police", "e1"));
  EXPECT_EQ(out_.routed, 1);
  EXPECT_TRUE(out_.rejected.empty());
}

}  // namespace
}  // namespace mozaiek::test
