#include "connectors/http/api/whoami_api.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <string>
#include <vector>

#include "tests/support/identity.h"

namespace mozaiek {
namespace {

struct Answer {
  std::string name, via;
  std::vector<std::string> roles;
  std::map<std::string, bool> may;
};

Answer read(const HttpResponse& res) {
  Answer a;
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(res.body);
  a.name = std::string(std::string_view(doc["name"]));
  a.via = std::string(std::string_view(doc["via"]));
  for (auto r : doc["roles"].get_array()) a.roles.emplace_back(std::string_view(r));
  for (auto [k, v] : doc["may"].get_object()) a.may[std::string(k)] = bool(v);
  return a;
}

HttpResponse ask(const Principal& p) {
  HttpRequest req;
  req.principal = p;
  return whoami(req);
}

TEST(WhoamiTest, NamesThePrincipalAndWhatAnAnalystMayDo) {
  const HttpResponse res = ask(test::principal("ana", {"analyst"}, "oidc"));
  EXPECT_EQ(res.status, 200);
  const Answer a = read(res);
  EXPECT_EQ(a.name, "ana");
  EXPECT_EQ(a.via, "oidc");
  EXPECT_EQ(a.roles, std::vector<std::string>{"analyst"});
  const std::map<std::string, bool> want{{"alerts", true}, {"actions", true}, {"entities", true},
                                         {"rules", true},  {"audit", false},  {"erasure", false}};
  EXPECT_EQ(a.may, want);
}

// The views follow the routes' own role lists.
TEST(WhoamiTest, OversightOpensNoViewAndThePrivacyOfficerOnlyAuditAndErasure) {
  const Answer olga = read(ask(test::principal("olga", {"oversight"}, "oidc")));
  for (const auto& [view, allowed] : olga.may) EXPECT_FALSE(allowed) << view;
  EXPECT_EQ(olga.may.size(), 6u);
  const Answer paula = read(ask(test::principal("paula", {"privacy_officer"}, "oidc")));
  EXPECT_TRUE(paula.may.at("audit"));
  EXPECT_TRUE(paula.may.at("erasure"));
  EXPECT_FALSE(paula.may.at("alerts"));
  EXPECT_FALSE(paula.may.at("entities"));
  const Answer otto = read(ask(test::principal("otto", {"operator"}, "oidc")));
  EXPECT_TRUE(otto.may.at("rules"));
  EXPECT_FALSE(otto.may.at("alerts"));
}

TEST(WhoamiTest, EscapesTheNameAndIsNotCached) {
  const HttpResponse res = ask(test::principal("/O=x \"y\"", {"metrics"}, "mtls"));
  EXPECT_EQ(read(res).name, "/O=x \"y\"");
  bool no_store = false;
  for (const auto& [k, v] : res.headers) no_store |= k == "Cache-Control" && v == "no-store";
  EXPECT_TRUE(no_store);
}

}  // namespace
}  // namespace mozaiek
