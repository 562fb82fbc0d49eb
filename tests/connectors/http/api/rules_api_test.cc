// GET /api/rules: every rule in force, convergence and network rules alike.
#include "connectors/http/api/rules_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include "tests/support/fake_gate.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;

TEST(RulesApiTest, ServesTheDocumentItWasGiven) {
  prometheus::Registry registry;
  HttpServer server("127.0.0.1:0", registry);
  server.set_access_gate(test::FakeGate::granting_all_roles());
  add_rules_route(server, R"([{"name":"person_convergence"}])");
  ASSERT_TRUE(server.start().is_ok());
  httplib::Client c("127.0.0.1", server.port());
  auto res = c.Get("/api/rules");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->body, R"([{"name":"person_convergence"}])");
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
    add_rules_route(server, "[]");
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
