// GET /api/rules: the version in force, the rules, the tasks' versions and
// the history, each read audited before the answer. POST /api/rules: a
// whole config validated as check-config validates it, audited, then in
// force; a broken one or one needing a restart refused with its errors
// while the running rules stay.
#include "connectors/http/api/rules_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <fstream>
#include <sstream>

#include "connectors/app/settings.h"
#include "operators/model/rules_version.h"
#include "tests/support/fake_gate.h"
#include "tests/support/identity.h"
#include "tests/support/pipeline_harness.h"
#include "tests/support/temp_dir.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kConfigPath = std::string(MOZAIEK_SOURCE_DIR) + "/config/mozaiek.yaml";

std::string shipped_yaml() {
  std::ifstream in(kConfigPath);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The shipped config with the first `from` (in the rules section) replaced.
std::string edited(const std::string& from, const std::string& to) {
  std::string yaml = shipped_yaml();
  const std::size_t rules = yaml.find("\nrules:");
  const std::size_t at = yaml.find(from, rules);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) yaml.replace(at, from.size(), to);
  return yaml;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

HttpRequest request(std::string method, Principal who, std::string body = {}) {
  HttpRequest r;
  r.method = std::move(method);
  r.path = "/api/rules";
  r.principal = std::move(who);
  r.body = std::move(body);
  return r;
}

class RulesApiTest : public ::testing::Test {
 protected:
  RulesApiTest()
      : log_("mozaiek.audit",
             [this](Status&) -> std::unique_ptr<RecordSink> {
               auto s = std::make_unique<test::RecordingSink>();
               s->fail = fail_;
               sink_ = s.get();
               return s;
             }),
        registry_(test::shipped_settings().operators, clock_.now()),
        probe_(metrics_),
        api_(
            registry_,
            [](const std::string& yaml, OperatorConfig& out, std::vector<std::string>& errors) {
              Settings parsed;
              if (!load_settings_text(yaml, kConfigPath, parsed, errors)) return false;
              out = std::move(parsed.operators);
              return true;
            },
            &log_, probe_, clock_, [] { return std::string("candidate.html"); }) {}

  HttpResponse post(const std::string& yaml, const std::string& reason = "tuning") {
    return api_.post(
        request("POST", test::principal("op", {role::kOperator}),
                R"({"config":)" + json_string(yaml) + R"(,"reason":")" + reason + "\"}"));
  }
  double reloads(const std::string& outcome) {
    const std::string text = prometheus::TextSerializer().Serialize(metrics_.Collect());
    return test::metric_sum(text, "mozaiek_rules_reloads_total", {"outcome=\"" + outcome + "\""})
        .value_or(-1);
  }
  std::vector<OutRecord> audited() { return sink_ ? sink_->records : std::vector<OutRecord>{}; }

  bool fail_ = false;
  test::RecordingSink* sink_ = nullptr;
  ManualClock clock_{ProcTime{Millis{1'764'000'000'000}}};
  AuditLog log_;
  RulesRegistry registry_;
  prometheus::Registry metrics_;
  RulesReloadProbe probe_;
  RulesApi api_;
};

TEST_F(RulesApiTest, GetShowsTheVersionRulesAndHistoryOnceTheReadIsAudited) {
  registry_.task_applied("convergence", registry_.version());
  auto res = api_.get(request("GET", test::principal("op", {role::kOperator})));
  ASSERT_EQ(res.status, 200);
  EXPECT_THAT(res.body, StartsWith(R"({"version":")" + registry_.version() + R"(","rules":[)"));
  EXPECT_THAT(res.body,
              HasSubstr(R"({"name":"pickup_van","subject_type":"vehicle","network":true)"));
  EXPECT_THAT(res.body, HasSubstr(R"("tasks":{"convergence":")" + registry_.version() + "\"}"));
  EXPECT_THAT(res.body,
              HasSubstr(R"x("history":[{"at":"2025-11-24T16:00:00Z","principal":"(startup)",)x"
                        R"x("via":"startup","outcome":"started")x"));
  EXPECT_THAT(res.body, HasSubstr(R"("backtest_report":"candidate.html")"));
  ASSERT_EQ(audited().size(), 1u);
  EXPECT_EQ(audited()[0].value,
            R"({"schema":"mozaiek.audit/v2","at":"2025-11-24T16:00:00Z","principal":"op",)"
            R"("via":"oidc","role":"operator","action":"rules_read","method":"GET",)"
            R"("route":"/api/rules","status":200})");
  fail_ = true;
  sink_->fail = true;
  res = api_.get(request("GET", test::principal("op", {role::kOperator})));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.body.find("person_convergence"), std::string::npos);
  EXPECT_EQ(api_.get(request("GET", {})).status, 401);
}

TEST_F(RulesApiTest, PostPutsAValidConfigInForceAfterAuditingIt) {
  auto res = post(edited("threshold: 6", "threshold: 3.5"));
  ASSERT_EQ(res.status, 200) << res.body;
  const std::string v2 = registry_.version();
  EXPECT_THAT(v2, StartsWith("2-"));
  EXPECT_EQ(res.body, R"({"outcome":"applied","version":")" + v2 + "\"}");
  EXPECT_DOUBLE_EQ(registry_.current()->rules[0].threshold, 3.5);
  ASSERT_EQ(audited().size(), 1u);
  EXPECT_THAT(audited()[0].value, HasSubstr(R"("action":"rules_reload","method":"POST")"));
  EXPECT_THAT(audited()[0].value, HasSubstr(R"("status":200)"));
  EXPECT_THAT(audited()[0].value, HasSubstr(R"("reason":"applied )" + v2 + "; tuning\""));
  EXPECT_EQ(reloads("applied"), 1);

  // The same again changes nothing.
  res = post(edited("threshold: 6", "threshold: 3.5"));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"outcome":"unchanged","version":")" + v2 + "\"}");
  EXPECT_EQ(reloads("unchanged"), 1);
  EXPECT_EQ(registry_.version(), v2);
}

TEST_F(RulesApiTest, PostRefusesABrokenConfigWithCheckConfigsErrorsAndTheRulesStay) {
  const std::string v1 = registry_.version();
  auto res = post(edited("threshold: 6", "threshold: -1"));
  ASSERT_EQ(res.status, 400);
  EXPECT_THAT(res.body, HasSubstr(R"("outcome":"refused","version":")" + v1));
  EXPECT_THAT(res.body, HasSubstr("rules.person.threshold"));
  // The same error check-config gives for the file.
  Settings parsed;
  std::vector<std::string> errors;
  ASSERT_FALSE(
      load_settings_text(edited("threshold: 6", "threshold: -1"), kConfigPath, parsed, errors));
  ASSERT_FALSE(errors.empty());
  EXPECT_THAT(res.body, HasSubstr(errors[0]));
  EXPECT_EQ(registry_.version(), v1);
  EXPECT_DOUBLE_EQ(registry_.current()->rules[0].threshold, 6);
  EXPECT_EQ(reloads("refused"), 1);
  ASSERT_EQ(audited().size(), 1u);
  EXPECT_THAT(audited()[0].value, HasSubstr(R"("status":400)"));
  EXPECT_THAT(audited()[0].value,
              HasSubstr(R"("reason":"refused (1 error(s): rules.person.threshold)"));
  const auto history = registry_.snapshot().history;
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history.back().outcome, RulesOutcome::refused);
  EXPECT_EQ(history.back().principal, "op");
  EXPECT_EQ(history.back().via, "oidc");

  // Not YAML at all.
  res = post("rules: [unclosed");
  EXPECT_EQ(res.status, 400);
  EXPECT_THAT(res.body, HasSubstr("YAML syntax error"));
  EXPECT_EQ(registry_.version(), v1);
}

TEST_F(RulesApiTest, PostRefusesWhatNeedsARestart) {
  const std::string v1 = registry_.version();
  auto res = post(edited("name: vehicle_convergence", "name: car_convergence"));
  ASSERT_EQ(res.status, 400) << res.body;
  EXPECT_THAT(res.body, HasSubstr("rules.vehicle.name: 'car_convergence'"));
  EXPECT_THAT(res.body, HasSubstr("restart"));
  EXPECT_EQ(registry_.version(), v1);
}

TEST_F(RulesApiTest, WithoutItsAuditRecordNothingChanges) {
  const std::string v1 = registry_.version();
  (void)api_.get(request("GET", test::principal("op", {role::kOperator})));  // makes the sink
  fail_ = true;
  sink_->fail = true;
  auto res = post(edited("threshold: 6", "threshold: 3.5"));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(registry_.version(), v1);
  EXPECT_EQ(registry_.snapshot().history.size(), 1u);
}

TEST_F(RulesApiTest, MalformedRequestsAreRefusedUnrecorded) {
  for (const std::string body :
       {"", "[]", R"({"config":5})", R"({"yaml":"x"})", R"({"reason":"x"})"}) {
    auto res = api_.post(request("POST", test::principal("op", {role::kOperator}), body));
    EXPECT_EQ(res.status, 400) << body;
  }
  EXPECT_TRUE(audited().empty());
  EXPECT_EQ(registry_.snapshot().history.size(), 1u);
}

TEST(RulesApiRolesTest, OperatorsReloadAnalystsOnlyRead) {
  for (const auto& [role, get_status, post_status] :
       std::vector<std::tuple<std::string_view, int, int>>{
           {role::kOperator, 200, 400}, {role::kAnalyst, 200, 403}, {role::kCare, 403, 403}}) {
    prometheus::Registry registry;
    HttpServer server("127.0.0.1:0", registry);
    server.set_access_gate(test::FakeGate::granting(Principal{"p", {std::string(role)}, "test"}));
    AuditLog log("mozaiek.audit", [](Status&) -> std::unique_ptr<RecordSink> {
      return std::make_unique<test::RecordingSink>();
    });
    ManualClock clock{ProcTime{Millis{1'764'000'000'000}}};
    RulesRegistry rules(OperatorConfig{}, clock.now());
    RulesReloadProbe probe(registry);
    RulesApi api(
        rules,
        [](const std::string&, OperatorConfig&, std::vector<std::string>& errors) {
          errors.emplace_back("rules: refused by the test");
          return false;
        },
        &log, probe, clock);
    server.route("GET", "/api/rules", Roles(kRulesReaderRoles),
                 [&](const HttpRequest& req) { return api.get(req); });
    server.route("POST", "/api/rules", Roles(kRulesReloaderRoles),
                 [&](const HttpRequest& req) { return api.post(req); });
    ASSERT_TRUE(server.start().is_ok());
    httplib::Client c("127.0.0.1", server.port());
    EXPECT_EQ(c.Get("/api/rules")->status, get_status) << role;
    auto posted = c.Post("/api/rules", R"({"config":"rules: {}"})", "application/json");
    ASSERT_TRUE(posted);
    EXPECT_EQ(posted->status, post_status) << role;
  }
}

TEST_F(RulesApiTest, TheNewestBacktestReportIsServedInItsOwnSandboxAudited) {
  test::TempDir dir("mozaiek-backtest-reports");
  {
    std::ofstream out(dir.path() + "/candidate.html");
    out << "<!doctype html><title>backtest</title><svg></svg>";
  }
  HttpRequest req = request("GET", test::principal("an", {role::kAnalyst}));
  req.path = "/api/rules/backtest-report";
  auto res = serve_backtest_report(dir.path(), "candidate.html", log_, clock_, req);
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "text/html; charset=utf-8");
  EXPECT_THAT(res.body, HasSubstr("<title>backtest</title>"));
  bool sandboxed = false;
  for (const auto& [name, value] : res.headers) {
    if (name == "Content-Security-Policy") sandboxed = value == kBacktestReportCsp;
  }
  EXPECT_TRUE(sandboxed);
  EXPECT_THAT(std::string(kBacktestReportCsp),
              StartsWith("sandbox allow-scripts; default-src 'none'"));
  ASSERT_EQ(audited().size(), 1u);
  EXPECT_THAT(audited()[0].value, HasSubstr(R"("action":"rules_read")"));
  EXPECT_THAT(audited()[0].value, HasSubstr(R"("reason":"backtest report candidate.html")"));
  EXPECT_EQ(serve_backtest_report(dir.path(), "", log_, clock_, req).status, 404);
  EXPECT_EQ(serve_backtest_report(dir.path(), "missing.html", log_, clock_, req).status, 404);
  EXPECT_EQ(audited().size(), 1u);
}

TEST(RulesStateJsonTest, ListsConvergenceRulesThenTheNetworkRules) {
  OperatorConfig config;
  config.rules[0].name = "first_rule";
  const std::string json = rules_json(config);
  EXPECT_THAT(json, HasSubstr(R"([{"name":"first_rule","subject_type":)"));
  EXPECT_THAT(json, HasSubstr(R"({"name":"pickup_van","subject_type":"vehicle","network":true)"));
  EXPECT_EQ(json.back(), ']');
  RulesRegistry registry(config, ProcTime{Millis{0}});
  EXPECT_THAT(rules_state_json(registry.snapshot(), ""), HasSubstr(R"("backtest_report":null})"));
}

}  // namespace
}  // namespace mozaiek
