// GET /api/rules: every rule in force, convergence and network rules alike;
// each read audited before the answer.
#include "connectors/http/api/rules_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

HttpRequest rules_request(Principal who) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/rules";
  r.principal = std::move(who);
  return r;
}

TEST(RulesApiTest, ServesTheDocumentOnceTheReadIsAudited) {
  test::RecordingSink* sink = nullptr;
  bool fail = false;
  AuditLog log("mozaiek.audit", [&](Status&) -> std::unique_ptr<RecordSink> {
    auto s = std::make_unique<test::RecordingSink>();
    s->fail = fail;
    sink = s.get();
    return s;
  });
  ManualClock clock{ProcTime{Millis{1'764'000'000'000}}};
  const std::string json = R"([{"name":"person_convergence"}])";
  auto res = read_rules(json, log, clock, rules_request(test::principal("op", {role::kOperator})));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  EXPECT_EQ(res.body, json);
  ASSERT_EQ(sink->records.size(), 1u);
  EXPECT_EQ(sink->records[0].key, "op");
  EXPECT_EQ(sink->records[0].value,
            R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"op",)"
            R"("via":"oidc","role":"operator","action":"rules_read","method":"GET",)"
            R"("route":"/api/rules","status":200})");
  fail = true;
  sink->fail = true;
  res = read_rules(json, log, clock, rules_request(test::principal("op", {role::kOperator})));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.body.find("person_convergence"), std::string::npos);
  res = read_rules(json, log, clock, rules_request({}));
  EXPECT_EQ(res.status, 401);
}

TEST(RulesApiTest, OperatorsAndAnalystsMayReadTheRulesOthersMayNot) {
  for (const auto& [role, want] :
       std::vector<std::pair<std::string_view, int>>{{role::kOperator, 200},
                                                     {role::kAnalyst, 200},
                                                     {role::kCare, 403},
                                                     {role::kOversight, 403}}) {
    prometheus::Registry registry;
    HttpServer server("127.0.0.1:0", registry);
    server.set_access_gate(test::FakeGate::granting(Principal{"p", {std::string(role)}, "test"}));
    AuditLog log("mozaiek.audit", [](Status&) -> std::unique_ptr<RecordSink> {
      return std::make_unique<test::RecordingSink>();
    });
    ManualClock clock{ProcTime{Millis{1'764'000'000'000}}};
    server.route("GET", "/api/rules", Roles(kRulesReaderRoles),
                 [&](const HttpRequest& req) { return read_rules("[]", log, clock, req); });
    ASSERT_TRUE(server.start().is_ok());
    httplib::Client c("127.0.0.1", server.port());
    EXPECT_EQ(c.Get("/api/rules")->status, want) << role;
  }
}

TEST(RulesApiTest, ListsConvergenceRulesThenTheNetworkRules) {
  OperatorConfig config;
  config.rules[0].name = "first_rule";
  const std::string json = rules_json(config);
  EXPECT_THAT(json, HasSubstr(R"([{"name":"first_rule","subject_type":)"));
  EXPECT_THAT(json, HasSubstr(R"({"name":"pickup_van","subject_type":"vehicle","network":true)"));
  EXPECT_THAT(json, HasSubstr(R"("subject_type":"person","network":true)"));
  EXPECT_EQ(json.back(), ']');
}

}  // namespace
}  // namespace mozaiek
