// The audit component: the one mozaiek.audit/v2 record each audited
// request leaves, keyed by its principal and flushed before the answer;
// refusals (the server's 401/403 through the DenialObserver, a handler's
// own 401); and the read-back of a subject's or a principal's trail.
#include "connectors/http/api/audit.h"

#include <gtest/gtest.h>

#include "connectors/http/api/audit_api.h"
#include "connectors/http/api/audit_index.h"
#include "tests/support/fake_io.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

const std::string kBoy(64, 'b');
const ProcTime kAt{Millis{1'764'000'000'000}};  // 2025-11-24T16:00:00Z

HttpRequest get(std::string path, Principal who) {
  HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  r.principal = std::move(who);
  return r;
}

// An AuditLog over one recording sink, with a switch to fail its writes.
struct RecordingLog {
  test::RecordingSink* sink = nullptr;
  int sinks_made = 0;
  bool fail = false;
  AuditLog log{"mozaiek.audit", [this](Status&) -> std::unique_ptr<RecordSink> {
                 auto s = std::make_unique<test::RecordingSink>();
                 s->fail = fail;
                 sink = s.get();
                 ++sinks_made;
                 return s;
               }};
  std::size_t written() const { return sink ? sink->records.size() : 0; }
  const OutRecord& last() const { return sink->records.back(); }
};

TEST(AuditTest, OneV2RecordKeyedByThePrincipalWithTheRoleItActedUnder) {
  test::RecordingSink sink;
  std::string scratch = "left over";
  AuditRecord r = audit_record(get("/api/entities/person/" + kBoy,
                                   test::principal("ana", {role::kOversight, role::kAnalyst})),
                               audit_action::kEntityView, {role::kAnalyst}, kAt);
  r.reason = "case 12";
  r.subject = AuditSubject{SubjectType::person, kBoy};
  r.found = true;
  ASSERT_TRUE(write_audit(sink, "mozaiek.audit", r, scratch).is_ok());
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].topic, "mozaiek.audit");
  EXPECT_EQ(sink.records[0].key, "ana");
  EXPECT_EQ(sink.records[0].value,
            R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"ana",)"
            R"("via":"oidc","role":"analyst","action":"entity_view","method":"GET",)"
            R"("route":"/api/entities/person/)" +
                kBoy + R"(","status":200,"reason":"case 12","subject":{"type":"person","key":")" +
                kBoy + R"("},"found":true})");
}

TEST(AuditTest, TheRoleIsTheFirstOfTheRoutesRolesThePrincipalHolds) {
  const Principal p = test::principal("x", {role::kCare, role::kAnalyst});
  EXPECT_EQ(acting_role(p, {role::kAnalyst, role::kCare}), "analyst");
  EXPECT_EQ(acting_role(p, {role::kCare}), "care");
  EXPECT_EQ(acting_role(p, {role::kPrivacyOfficer}), "");
  EXPECT_EQ(acting_role(Principal{}, {role::kAnalyst}), "");
}

TEST(AuditTest, ARawIdentifierInARefusedPathNeverReachesTheRecord) {
  EXPECT_EQ(audited_path(get("/api/entities/person/2213456789", {})),
            "/api/entities/person/(not a pseudonym)");
  EXPECT_EQ(audited_path(get("/api/entities/person/" + kBoy, {})), "/api/entities/person/" + kBoy);
  EXPECT_EQ(audited_path(get("/api/entities/vehicle/FR-AB123CD", {})),
            "/api/entities/vehicle/FR-AB123CD");
}

TEST(AuditTest, TheLogFlushesBeforeItReturnsAndAFailedFlushIsReturned) {
  test::EventLog events;
  test::FakeSink* sink = nullptr;
  AuditLog log("mozaiek.audit", [&](Status&) -> std::unique_ptr<RecordSink> {
    auto s = std::make_unique<test::FakeSink>(&events);
    sink = s.get();
    return s;
  });
  AuditRecord r = audit_record(get("/api/rules", test::principal("op", {role::kOperator})),
                               audit_action::kRulesRead, {role::kOperator}, kAt);
  ASSERT_TRUE(log.write(r).is_ok());
  EXPECT_EQ(events, (test::EventLog{"sink flush"}));
  ASSERT_EQ(sink->delivered().size(), 1u);
  sink->fail_flush = Status::error("broker down");
  EXPECT_FALSE(log.write(r).is_ok());
  // The failed producer is dropped (the next write makes a new one), so it
  // is not read again; the failed write was still flushed, not skipped.
  EXPECT_EQ(events, (test::EventLog{"sink flush", "sink flush"}));
}

TEST(AuditTest, AFailedWriteIsReturnedAndTheNextWriteUsesANewProducer) {
  RecordingLog rl;
  rl.fail = true;
  AuditRecord r = audit_record(get("/api/rules", test::principal("op", {role::kOperator})),
                               audit_action::kRulesRead, {role::kOperator}, kAt);
  EXPECT_FALSE(rl.log.write(r).is_ok());
  rl.fail = false;
  EXPECT_TRUE(rl.log.write(r).is_ok());
  EXPECT_EQ(rl.sinks_made, 2);
  EXPECT_EQ(rl.written(), 1u);
}

TEST(AuditTest, TheServersRefusalsAreAuditedThroughTheDenialObserver) {
  RecordingLog rl;
  ManualClock clock{kAt};
  DenialObserver observe = audit_denials(rl.log, clock);
  HttpRequest req = get("/api/entities/person/2213456789", {});
  observe(req, Roles{role::kAnalyst}, AccessDecision{401, {}, "no bearer token"});
  ASSERT_EQ(rl.written(), 1u);
  EXPECT_EQ(rl.last().key, std::string(kUnauthenticated));
  EXPECT_EQ(rl.last().value,
            R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"",)"
            R"("via":"","role":"","action":"denied","method":"GET",)"
            R"x("route":"/api/entities/person/(not a pseudonym)","status":401,)x"
            R"("reason":"no bearer token"})");
  req.path = "/api/erasure";
  req.method = "POST";
  observe(req, Roles{role::kPrivacyOfficer},
          AccessDecision{403, test::principal("ana", {role::kAnalyst}),
                         "missing role privacy_officer"});
  ASSERT_EQ(rl.written(), 2u);
  EXPECT_EQ(rl.last().key, "ana");
  EXPECT_EQ(rl.last().value,
            R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"ana",)"
            R"("via":"oidc","role":"","action":"denied","method":"POST","route":"/api/erasure",)"
            R"("status":403,"reason":"missing role privacy_officer"})");
}

TEST(AuditTest, AHandlersOwnRefusalWithoutPrincipalIsAudited) {
  RecordingLog rl;
  ManualClock clock{kAt};
  const HttpResponse r = refuse_unauthenticated(rl.log, get("/api/alerts", {}), clock);
  EXPECT_EQ(r.status, 401);
  ASSERT_EQ(rl.written(), 1u);
  EXPECT_NE(rl.last().value.find(R"("action":"denied")"), std::string::npos);
  EXPECT_NE(rl.last().value.find(R"("status":401)"), std::string::npos);
}

TEST(AuditTest, KeysAreReadBackFromAV2RecordOnly) {
  AuditRecord r = audit_record(get("/x", test::principal("ana", {})), audit_action::kErasure, {},
                               kAt);
  r.subject = AuditSubject{SubjectType::vehicle, "NL-AB123C"};
  std::string json;
  write_audit_json(r, json);
  AuditKeys keys;
  std::string error;
  ASSERT_TRUE(read_audit_keys(json, keys, error)) << error;
  EXPECT_EQ(keys.principal, "ana");
  ASSERT_TRUE(keys.subject);
  EXPECT_EQ(keys.subject->type, SubjectType::vehicle);
  EXPECT_EQ(keys.subject->key, "NL-AB123C");
  EXPECT_FALSE(read_audit_keys(R"({"schema":"mozaiek.audit/v1","user":"ana"})", keys, error));
  EXPECT_EQ(error, "schema");
  EXPECT_FALSE(read_audit_keys("not json", keys, error));
}

// Index records as the topic reader would: by entity views of two persons
// by two principals.
std::string view_record(const std::string& who, const std::string& person, int minute) {
  AuditRecord r = audit_record(get("/api/entities/person/" + person,
                                   test::principal(who, {role::kAnalyst})),
                               audit_action::kEntityView, {role::kAnalyst},
                               ProcTime{Millis{1'764'000'000'000 + minute * 60'000}});
  r.subject = AuditSubject{SubjectType::person, person};
  r.reason = "case " + std::to_string(minute);
  r.found = true;
  std::string json;
  write_audit_json(r, json);
  return json;
}

TEST(AuditIndexTest, FindsASubjectsTrailOrAPrincipalsNewestFirstWithinTheLimit) {
  const std::string other(64, 'e');
  AuditIndex index(100);
  std::string error;
  ASSERT_TRUE(index.add(view_record("ana", kBoy, 1), error));
  ASSERT_TRUE(index.add(view_record("bob", other, 2), error));
  ASSERT_TRUE(index.add(view_record("bob", kBoy, 3), error));
  ASSERT_TRUE(index.add(view_record("ana", kBoy, 4), error));
  EXPECT_FALSE(index.add(R"({"schema":"mozaiek.audit/v1"})", error));

  auto boy = index.find({AuditSubject{SubjectType::person, kBoy}, "", 10});
  ASSERT_EQ(boy.records.size(), 3u);
  EXPECT_NE(boy.records[0].find("case 4"), std::string::npos);
  EXPECT_NE(boy.records[1].find("case 3"), std::string::npos);
  EXPECT_NE(boy.records[2].find("case 1"), std::string::npos);
  EXPECT_FALSE(boy.more);

  auto limited = index.find({AuditSubject{SubjectType::person, kBoy}, "", 2});
  EXPECT_EQ(limited.records.size(), 2u);
  EXPECT_TRUE(limited.more);

  auto bob = index.find({std::nullopt, "bob", 10});
  ASSERT_EQ(bob.records.size(), 2u);
  EXPECT_NE(bob.records[0].find("case 3"), std::string::npos);
  EXPECT_TRUE(index.find({AuditSubject{SubjectType::vehicle, kBoy}, "", 10}).records.empty());
}

TEST(AuditIndexTest, HoldsAtMostItsCapacityDroppingTheOldest) {
  AuditIndex index(2);
  std::string error;
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(index.add(view_record("ana", kBoy, i), error));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.dropped(), 1u);
  auto found = index.find({std::nullopt, "ana", 10});
  ASSERT_EQ(found.records.size(), 2u);
  EXPECT_NE(found.records[1].find("case 2"), std::string::npos);
}

class AuditApiTest : public ::testing::Test {
 protected:
  HttpRequest read_back(const std::string& query, Principal who) {
    HttpRequest r = get("/api/audit", std::move(who));
    std::string rest = query;
    while (!rest.empty()) {
      const auto amp = rest.find('&');
      const std::string pair = rest.substr(0, amp);
      const auto eq = pair.find('=');
      r.params.emplace(pair.substr(0, eq), pair.substr(eq + 1));
      rest = amp == std::string::npos ? "" : rest.substr(amp + 1);
    }
    return r;
  }
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(index_.add(view_record("ana", kBoy, 1), error));
    ASSERT_TRUE(index_.add(view_record("bob", std::string(64, 'e'), 2), error));
  }
  const Principal dpo_ = test::principal("dpo-1", {role::kPrivacyOfficer});
  AuditIndex index_{100};
  RecordingLog rl_;
  ManualClock clock_{kAt};
};

TEST_F(AuditApiTest, APrivacyOfficerReadsASubjectsTrailAndTheReadIsAudited) {
  const auto r = read_audit_trail(index_, rl_.log, clock_,
                                  read_back("type=person&key=" + kBoy, dpo_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.rfind(R"({"subject":{"type":"person","key":")" + kBoy + R"("},"records":[{)", 0),
            0u)
      << r.body;
  EXPECT_NE(r.body.find("case 1"), std::string::npos);
  EXPECT_EQ(r.body.find("case 2"), std::string::npos) << "another person's trail";
  EXPECT_EQ(r.body.substr(r.body.size() - 16), R"(}],"more":false})");
  ASSERT_EQ(rl_.written(), 1u);
  EXPECT_EQ(rl_.last().key, "dpo-1");
  const std::string& audit = rl_.last().value;
  EXPECT_NE(audit.find(R"("role":"privacy_officer","action":"audit_read")"), std::string::npos)
      << audit;
  EXPECT_NE(audit.find(R"("subject":{"type":"person","key":")" + kBoy), std::string::npos);
  EXPECT_NE(audit.find(R"("count":1)"), std::string::npos) << audit;
}

TEST_F(AuditApiTest, APrincipalsTrailToo) {
  const auto r = read_audit_trail(index_, rl_.log, clock_, read_back("principal=bob", dpo_));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find("case 2"), std::string::npos);
  EXPECT_EQ(r.body.find("case 1"), std::string::npos);
  EXPECT_NE(rl_.last().value.find(R"("about_principal":"bob")"), std::string::npos);
}

TEST_F(AuditApiTest, NoAuditRecordNoTrail) {
  rl_.fail = true;
  const auto r = read_audit_trail(index_, rl_.log, clock_,
                                  read_back("type=person&key=" + kBoy, dpo_));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body.find("case"), std::string::npos) << r.body;
}

TEST_F(AuditApiTest, OnlyAPrivacyOfficerAndPersonsOnlyByPseudonym) {
  const auto analyst = read_audit_trail(index_, rl_.log, clock_,
                                        read_back("type=person&key=" + kBoy,
                                                  test::principal("ana", {role::kAnalyst})));
  EXPECT_EQ(analyst.status, 403);
  EXPECT_EQ(analyst.body.find("case"), std::string::npos);
  ASSERT_EQ(rl_.written(), 1u);
  EXPECT_NE(rl_.last().value.find(R"("action":"denied")"), std::string::npos);
  EXPECT_EQ(
      read_audit_trail(index_, rl_.log, clock_, read_back("type=person&key=" + kBoy, {})).status,
      401);
  auto status = [&](const std::string& q) {
    return read_audit_trail(index_, rl_.log, clock_, read_back(q, dpo_)).status;
  };
  EXPECT_EQ(status("type=person&key=2213456789"), 400);
  EXPECT_EQ(status("type=boat&key=x"), 400);
  EXPECT_EQ(status("principal=ana&type=person&key=" + kBoy), 400);
  EXPECT_EQ(status(""), 400);
  EXPECT_EQ(status("principal=ana&limit=0"), 400);
  EXPECT_EQ(status("principal=ana&limit=5"), 200);
}

}  // namespace
}  // namespace mozaiek
