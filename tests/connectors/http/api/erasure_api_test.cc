// POST /api/erasure without a broker: the header and body checks, what is
// produced (the erasure record keyed like the entity's signals, the audit
// record keyed by the principal), and that a failed write answers 503 and is
// retried on a fresh producer.
#include "connectors/http/api/erasure_api.h"

#include <gtest/gtest.h>

#include "operators/records/erasure_record.h"
#include "operators/records/internal_record.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

constexpr const char* kKey = "erasure-api-test-key-0123456789";

HttpRequest post(const std::string& body, const std::string& user = "dpo-1") {
  HttpRequest r;
  r.method = "POST";
  r.path = "/api/erasure";
  r.body = body;
  if (!user.empty()) r.principal = test::principal(user, {role::kPrivacyOfficer});
  r.headers.emplace_back("x-mozaiek-user", "mallory");  // not trusted
  return r;
}

class ErasureApiTest : public ::testing::Test {
 protected:
  ErasureApiTest()
      : api_(
            [this](Status&) -> std::unique_ptr<RecordSink> {
              ++sinks_made;
              auto sink = std::make_unique<test::RecordingSink>();
              sink->fail = fail_next_sink;
              fail_next_sink = false;
              sink_ = sink.get();
              return sink;
            },
            ErasureTopics{"mozaiek.internal.subjects", "mozaiek.audit"}, pseudonymiser_, clock_) {}

  Pseudonymiser pseudonymiser_{kKey};
  ManualClock clock_{ProcTime{Millis{1'780'000'000'000}}};
  int sinks_made = 0;
  bool fail_next_sink = false;
  test::RecordingSink* sink_ = nullptr;
  ErasureApi api_;
};

TEST_F(ErasureApiTest, AcceptedRequestWritesTheErasureRecordAndItsAuditThenAnswers202) {
  const auto r = api_.handle(
      post(R"({"type":"person","id":"2213456789","id_scheme":"v-number","reason":"AVG-2026-17"})"));
  ASSERT_EQ(r.status, 202) << r.body;
  std::string boy;
  pseudonymiser_.pseudonymise("v-number", "2213456789", boy);
  // No pseudonym in the answer: the endpoint is no lookup of raw ids.
  EXPECT_EQ(r.body, R"({"status":"accepted","entity":{"type":"person"}})");
  EXPECT_EQ(r.body.find(boy), std::string::npos);
  ASSERT_NE(sink_, nullptr);
  ASSERT_EQ(sink_->records.size(), 2u);
  const OutRecord& erasure = sink_->records[0];
  EXPECT_EQ(erasure.topic, "mozaiek.internal.subjects");
  EXPECT_EQ(erasure.key, "person:" + boy);  // the routing key of his signals
  EXPECT_EQ(internal_record_kind(erasure.value), InternalRecordKind::erasure);
  ErasureRecord decoded;
  ASSERT_TRUE(decode_erasure(erasure.value, decoded));
  EXPECT_EQ(decoded.type, SubjectType::person);
  EXPECT_EQ(decoded.key, boy);
  EXPECT_EQ(decoded.requested_at, clock_.now());
  const OutRecord& audit = sink_->records[1];
  EXPECT_EQ(audit.topic, "mozaiek.audit");
  EXPECT_EQ(audit.key, "dpo-1");
  EXPECT_EQ(audit.value,
            R"({"schema":"mozaiek.audit/v2","at":"2026-05-28T20:26:40Z","principal":"dpo-1",)"
            R"("via":"oidc","role":"privacy_officer","action":"erasure","method":"POST",)"
            R"("route":"/api/erasure","status":202,"reason":"AVG-2026-17",)"
            R"("subject":{"type":"person","key":")" +
                boy + R"("}})");
  for (const auto& rec : sink_->records) {
    EXPECT_EQ(rec.value.find("2213456789"), std::string::npos);
  }
}

TEST_F(ErasureApiTest, RefusedRequestsNameTheFieldAndWriteNothing) {
  auto r = api_.handle(post(R"({"type":"location","id":"farm-12","reason":"r"})", ""));
  EXPECT_EQ(r.status, 401);
  r = api_.handle(post(R"({"type":"vehicle","plate":"AB-12","reason":"r","id":"x"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"id")"), std::string::npos) << r.body;
  r = api_.handle(post("{"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"("field":"body")"), std::string::npos) << r.body;
  EXPECT_EQ(sinks_made, 0);
}

TEST_F(ErasureApiTest, FailedWriteAnswers503AndTheNextRequestGetsAFreshProducer) {
  fail_next_sink = true;
  const std::string body = R"({"type":"location","id":"Farm 12","reason":"r"})";
  auto r = api_.handle(post(body));
  EXPECT_EQ(r.status, 503) << r.body;
  r = api_.handle(post(body));
  EXPECT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(sinks_made, 2);
  ASSERT_EQ(sink_->records.size(), 2u);
  EXPECT_EQ(sink_->records[0].key, "location:farm-12");
  // A location's id is what was sent; it is answered (normalised).
  EXPECT_EQ(r.body, R"({"status":"accepted","entity":{"type":"location","key":"farm-12"}})");
}

TEST_F(ErasureApiTest, PersonGivenByPseudonymIsNotEchoedEither) {
  std::string boy;
  pseudonymiser_.pseudonymise("v-number", "2213456789", boy);
  const auto r = api_.handle(post(R"({"type":"person","key":")" + boy + R"(","reason":"r"})"));
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body.find(boy), std::string::npos) << r.body;
}

}  // namespace
}  // namespace mozaiek
