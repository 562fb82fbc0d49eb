// The entity view API: request checks, and that every answered lookup is
// audited (mozaiek.audit/v2, by the request's principal) before the answer
// leaves, and none is answered without audit.
#include "connectors/http/api/entity_api.h"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <map>
#include <thread>

#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

using test::RecordingSink;

class NullOutput final : public AlertOutput {
 public:
  void on_alert(const Alert&, std::string_view) override {}
  void on_notice(const EntityNotice&) override {}
};

HttpRequest request(const std::string& type, const std::string& key, const std::string& user,
                    const std::string& reason) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/entities/" + type + "/" + key;
  r.matches = {r.path, type, key};
  if (!user.empty()) r.principal = test::principal(user, {role::kAnalyst});
  // Not trusted: a header naming someone else changes nothing.
  r.headers.emplace_back("x-mozaiek-user", "mallory");
  if (!reason.empty()) r.params.emplace("reason", reason);
  return r;
}

// A checked lookup of `key` by `user`, as the HTTP thread queues it.
EntityLookup lookup_of(SubjectType type, const std::string& key, const std::string& user,
                       const std::string& reason) {
  EntityLookup l;
  auto bad = check_entity_request(request(std::string(to_string(type)), key, user, reason), l);
  EXPECT_FALSE(bad) << bad->body;
  return l;
}

const std::string kPseudonym(64, 'c');

TEST(EntityApiTest, RequestsNeedAUserAReasonAndPersonsByPseudonym) {
  EntityLookup l;
  EXPECT_FALSE(check_entity_request(request("vehicle", "FR-AB123CD", "ana", "case 1"), l));
  EXPECT_EQ(l.type, SubjectType::vehicle);
  EXPECT_EQ(l.audit.principal, "ana");
  EXPECT_EQ(l.audit.role, "analyst");
  EXPECT_EQ(l.audit.reason, "case 1");
  EXPECT_FALSE(check_entity_request(request("person", kPseudonym, "ana", "case 1"), l));
  auto status = [&](const HttpRequest& r) {
    auto bad = check_entity_request(r, l);
    return bad ? bad->status : 200;
  };
  EXPECT_EQ(status(request("vehicle", "FR-AB123CD", "", "case 1")), 401);
  EXPECT_EQ(status(request("vehicle", "FR-AB123CD", "ana", "")), 400);
  EXPECT_EQ(status(request("boat", "X", "ana", "case 1")), 400);
  EXPECT_EQ(status(request("person", "v-number:2213456789", "ana", "case 1")), 400);
  EXPECT_EQ(status(request("person", std::string(64, 'C'), "ana", "case 1")), 400);
}

struct Fixture {
  OperatorConfig config;
  ManualClock clock;
  std::unique_ptr<StateStoreFactory> stores = make_memory_store_factory();
  NullOutput output;
  std::unique_ptr<ConvergenceStage> stage;
  Fixture() {
    config.catalogue.add({"w1", Strength::soft, 1.0, 0b111, 0});
    SourcePolicy coa;
    coa.name = "coa";
    config.sources.push_back(coa);
    stage = std::make_unique<ConvergenceStage>(config, *stores, clock, output);
    RoutedSignal r;
    r.subject_type = SubjectType::vehicle;
    r.subject_key = "FR-AB123CD";
    r.signal_id = "s1";
    r.observed_at = event_time_from_ms(1'700'000'000'000);
    r.watermark = r.observed_at;
    r.co_subjects.emplace_back(SubjectType::location, "coa-gilze");
    stage->process(Partition{0}, r);
  }
};

TEST(EntityApiTest, AnswersFromTheOwningThreadAfterWritingTheAuditRecord) {
  Fixture f;
  EntityRequests requests;
  RecordingSink sink;
  EntityLookup lookup = lookup_of(SubjectType::vehicle, "FR-AB123CD", "ana", "case 1");
  HttpResponse answer;
  std::thread http([&] { answer = requests.ask(lookup, std::chrono::seconds(30)); });
  // The task thread serves between batches until the request was answered.
  EntityLookupCounts counts;
  while (sink.records.empty()) {
    counts = requests.serve(*f.stage, sink, "mozaiek.audit", f.clock);
    std::this_thread::yield();
  }
  http.join();
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(counts.found, 1u);
  EXPECT_EQ(counts.not_found + counts.unaudited, 0u);
  EXPECT_NE(answer.body.find("\"key\":\"coa-gilze\""), std::string::npos) << answer.body;
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].topic, "mozaiek.audit");
  EXPECT_EQ(sink.records[0].key, "ana");
  EXPECT_EQ(sink.records[0].value,
            R"({"schema":"mozaiek.audit/v2","at":"2023-11-14T22:13:20Z","principal":"ana",)"
            R"("via":"oidc","role":"analyst","action":"entity_view","method":"GET",)"
            R"("route":"/api/entities/vehicle/FR-AB123CD","status":200,"reason":"case 1",)"
            R"("subject":{"type":"vehicle","key":"FR-AB123CD"},"found":true})");
}

// Several convergence threads (service.threads), each with some partitions:
// the one holding the entity answers; one that does not passes the lookup
// on; the last to look answers 404. One audit record per lookup either way.
TEST(EntityApiTest, WithSeveralThreadsTheOneHoldingTheEntityAnswers) {
  Fixture holder;
  Fixture other;
  other.stage = std::make_unique<ConvergenceStage>(other.config, *other.stores, other.clock,
                                                   other.output);  // holds nothing
  EntityRequests requests;
  RecordingSink holder_sink, other_sink;
  HttpResponse found, missing;
  std::thread http_found([&] {
    found = requests.ask(lookup_of(SubjectType::vehicle, "FR-AB123CD", "ana", "case 1"),
                         std::chrono::seconds(60));
  });
  std::thread http_missing([&] {
    missing = requests.ask(lookup_of(SubjectType::vehicle, "NL-ZZ999Z", "ana", "case 2"),
                           std::chrono::seconds(60));
  });
  // Both serve in turn until both lookups are answered.
  EntityLookupCounts by_other, by_holder;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (holder_sink.records.size() + other_sink.records.size() < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    const auto o = requests.serve(*other.stage, other_sink, "mozaiek.audit", other.clock, 1, 2);
    const auto h = requests.serve(*holder.stage, holder_sink, "mozaiek.audit", holder.clock, 0, 2);
    by_other.found += o.found;
    by_other.not_found += o.not_found;
    by_holder.found += h.found;
    by_holder.not_found += h.not_found;
    std::this_thread::yield();
  }
  http_found.join();
  http_missing.join();
  EXPECT_EQ(found.status, 200);
  EXPECT_NE(found.body.find("\"key\":\"coa-gilze\""), std::string::npos) << found.body;
  EXPECT_EQ(missing.status, 404);
  // The hit by the holder; the miss by whichever of the two looked last.
  EXPECT_EQ(by_holder.found, 1u);
  EXPECT_EQ(by_other.found, 0u);
  EXPECT_EQ(by_holder.not_found + by_other.not_found, 1u);
  ASSERT_EQ(holder_sink.records.size() + other_sink.records.size(), 2u);
  std::size_t hits = 0;
  for (const auto& r : holder_sink.records) {
    if (r.value.find("\"found\":true") != std::string::npos) ++hits;
  }
  EXPECT_EQ(hits, 1u);
}

TEST(EntityApiTest, UnknownEntityIs404AndStillAudited) {
  Fixture f;
  EntityRequests requests;
  RecordingSink sink;
  HttpResponse answer;
  std::thread http([&] {
    answer = requests.ask(lookup_of(SubjectType::vehicle, "NL-ZZ999Z", "ana", "check"),
                          std::chrono::seconds(30));
  });
  EntityLookupCounts counts;
  while (sink.records.empty()) {
    counts = requests.serve(*f.stage, sink, "mozaiek.audit", f.clock);
    std::this_thread::yield();
  }
  http.join();
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(counts.not_found, 1u);
  EXPECT_EQ(counts.found + counts.unaudited, 0u);
  EXPECT_NE(sink.records[0].value.find("\"status\":404"), std::string::npos);
  EXPECT_NE(sink.records[0].value.find("\"found\":false"), std::string::npos);
}

TEST(EntityApiTest, NoAuditNoView) {
  Fixture f;
  EntityRequests requests;
  RecordingSink sink;
  sink.fail = true;
  std::atomic<bool> done{false};
  HttpResponse answer;
  std::thread http([&] {
    answer = requests.ask(lookup_of(SubjectType::vehicle, "FR-AB123CD", "ana", "case 1"),
                          std::chrono::seconds(30));
    done = true;
  });
  std::uint64_t unaudited = 0, audited = 0;
  while (!done) {
    const auto counts = requests.serve(*f.stage, sink, "mozaiek.audit", f.clock);
    unaudited += counts.unaudited;
    audited += counts.found + counts.not_found;
    std::this_thread::yield();
  }
  http.join();
  EXPECT_EQ(answer.status, 503);
  EXPECT_EQ(unaudited, 1u);
  EXPECT_EQ(audited, 0u);
  EXPECT_EQ(answer.body.find("coa-gilze"), std::string::npos);
}

TEST(EntityApiTest, LookupProbeCountsEachOutcome) {
  prometheus::Registry registry;
  EntityLookupProbe probe(registry);
  probe.record({.found = 2, .not_found = 1, .unaudited = 0});
  probe.record({.found = 1, .not_found = 0, .unaudited = 4});
  std::map<std::string, double> by_outcome;
  for (const auto& family : registry.Collect()) {
    ASSERT_EQ(family.name, "mozaiek_entity_lookups_total");
    for (const auto& m : family.metric) {
      ASSERT_EQ(m.label.size(), 1u);
      by_outcome[m.label[0].value] = m.counter.value;
    }
  }
  EXPECT_EQ(by_outcome, (std::map<std::string, double>{
                            {"found", 3.0}, {"not_found", 1.0}, {"unaudited", 4.0}}));
}

TEST(EntityApiTest, ClosedQueueAnswers503) {
  EntityRequests requests;
  requests.close();
  EXPECT_EQ(requests.ask(lookup_of(SubjectType::vehicle, "X", "ana", "r"), std::chrono::seconds(1))
                .status,
            503);
}

}  // namespace
}  // namespace mozaiek
