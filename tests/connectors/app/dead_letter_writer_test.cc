#include "connectors/app/dead_letter_writer.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "tests/support/pipeline_harness.h"

namespace mozaiek::test {
namespace {

// A producer whose deliveries fail while the broker is "down".
struct Broker {
  bool down = false;
  int producers = 0;
  std::vector<std::string> delivered;  // values acknowledged, in order
};

class FlakySink final : public RecordSink {
 public:
  explicit FlakySink(Broker& broker) : broker_(broker) {}
  Status produce(std::string_view, std::string_view, std::string_view value) override {
    queued_.emplace_back(value);
    return Status::ok();
  }
  Status flush(Millis) override {
    // As KafkaSink: a failed delivery stays failed on this producer.
    if (broker_.down) failed_ = true;
    if (failed_) return Status::error("delivery failed: broker down");
    for (auto& v : queued_) broker_.delivered.push_back(std::move(v));
    queued_.clear();
    return Status::ok();
  }

 private:
  Broker& broker_;
  std::vector<std::string> queued_;
  bool failed_ = false;
};

class DeadLetterWriterTest : public ::testing::Test {
 protected:
  DeadLetterWriter make(std::function<bool()> give_up) {
    return DeadLetterWriter(
        "mozaiek.dlq",
        [this](Status&) -> std::unique_ptr<RecordSink> {
          ++broker_.producers;
          return std::make_unique<FlakySink>(broker_);
        },
        probe_, std::move(give_up),
        DeadLetterWriter::Options{
            .flush_timeout = seconds(1), .first_pause = Millis{1}, .longest_pause = Millis{2}});
  }
  double metric(const std::string& name) {
    const std::string text = prometheus::TextSerializer().Serialize(registry_.Collect());
    return metric_sum(text, name).value_or(-1);
  }
  Broker broker_;
  prometheus::Registry registry_;
  DeadLetterProbe probe_{registry_};
};

TEST_F(DeadLetterWriterTest, FailedDeliveryIsRetriedOnANewProducerAndCounted) {
  int asked = 0;
  auto writer = make([&] {
    // The broker comes back after the third failed attempt.
    if (++asked == 3) broker_.down = false;
    return false;
  });
  writer.write("signals.coa/0/1", "first");
  writer.write("signals.coa/0/2", "second");
  broker_.down = true;
  Status s = writer.deliver();
  ASSERT_TRUE(s.is_ok()) << s.message();
  EXPECT_EQ(broker_.delivered, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(writer.undelivered(), 0u);
  EXPECT_EQ(metric("mozaiek_dlq_write_failures_total"), 3);
  EXPECT_EQ(metric("mozaiek_dlq_write_retries_total"), 3);
  EXPECT_EQ(broker_.producers, 4);

  // The next letters go out on the new producer, without retries.
  writer.write("signals.coa/0/3", "third");
  ASSERT_TRUE(writer.deliver().is_ok());
  EXPECT_EQ(broker_.delivered.back(), "third");
  EXPECT_EQ(metric("mozaiek_dlq_write_retries_total"), 3);
}

TEST_F(DeadLetterWriterTest, StoppingWhileUndeliveredIsAnErrorSoNothingIsCommitted) {
  bool stop = false;
  auto writer = make([&] { return stop; });
  broker_.down = true;
  writer.write("signals.coa/0/1", "letter");
  stop = true;
  Status s = writer.deliver();
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("uncommitted"), std::string::npos) << s.message();
  EXPECT_EQ(writer.undelivered(), 1u);
  EXPECT_TRUE(broker_.delivered.empty());
  EXPECT_GE(metric("mozaiek_dlq_write_failures_total"), 1);
}

TEST_F(DeadLetterWriterTest, NothingWrittenDeliversAtOnce) {
  auto writer = make([] { return true; });
  EXPECT_TRUE(writer.deliver().is_ok());
  EXPECT_EQ(broker_.producers, 0);
}

}  // namespace
}  // namespace mozaiek::test
