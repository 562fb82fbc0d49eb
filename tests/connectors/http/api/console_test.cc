#include "connectors/http/api/console.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <prometheus/registry.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "connectors/http/http_server.h"

namespace mozaiek {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string source_file(const std::string& name) {
  std::ifstream in(std::string(MOZAIEK_SOURCE_DIR) + "/connectors/http/api/console/" + name,
                   std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class ConsoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    add_console_routes(server_);
    ASSERT_TRUE(server_.start().is_ok());
  }

  httplib::Result get(const std::string& path, const httplib::Headers& headers = {}) {
    httplib::Client c("127.0.0.1", server_.port());
    c.set_read_timeout(std::chrono::seconds(10));
    return c.Get(path, headers);
  }

  prometheus::Registry registry_;
  HttpServer server_{"127.0.0.1:0", registry_};
};

// The fixture's server has no access gate: the page and its assets are
// public (a browser loads them before it can log in; they hold no data),
// while an API route on the same server is refused.
TEST_F(ConsoleTest, PageAndAssetsArePublicWhileOtherRoutesAreNot) {
  EXPECT_EQ(get("/")->status, 200);
  EXPECT_EQ(get("/console/console.js")->status, 200);
  EXPECT_EQ(get("/metrics")->status, 401);
}

TEST_F(ConsoleTest, RootServesTheConsolePageWithAStrictContentSecurityPolicy) {
  auto res = get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res->get_header_value("Content-Security-Policy"), kConsoleCsp);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(res->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_EQ(res->body, source_file("index.html"));
}

TEST_F(ConsoleTest, PolicyAllowsOnlyTheServiceItselfAndNoInlineCode) {
  const std::string csp(kConsoleCsp);
  EXPECT_THAT(csp, HasSubstr("default-src 'self'"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self';"));
  EXPECT_THAT(csp, HasSubstr("connect-src 'self';"));
  EXPECT_THAT(csp, HasSubstr("object-src 'none'"));
  EXPECT_THAT(csp, Not(HasSubstr("unsafe")));
  EXPECT_THAT(csp, Not(HasSubstr("http")));
}

TEST_F(ConsoleTest, AssetsAreServedWithTheirContentTypesAndTheSamePolicy) {
  const struct {
    const char* name;
    const char* type;
  } cases[] = {{"console.js", "text/javascript; charset=utf-8"},
               {"console.css", "text/css; charset=utf-8"},
               {"favicon.svg", "image/svg+xml"},
               {"index.html", "text/html; charset=utf-8"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto res = get(std::string("/console/") + c.name);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), c.type);
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"), kConsoleCsp);
    EXPECT_EQ(res->get_header_value("Cache-Control"), "no-cache");
    EXPECT_FALSE(res->body.empty());
    EXPECT_EQ(res->body, source_file(c.name));
  }
}

TEST_F(ConsoleTest, UnknownOrUnembeddedFilesAreNotFound) {
  for (const char* path : {"/console/nope.js", "/console/embed_assets.cmake", "/console/",
                           "/console/..%2fCMakeLists.txt"}) {
    SCOPED_TRACE(path);
    auto res = get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404);
    EXPECT_THAT(res->body, Not(HasSubstr("cmake")));
  }
}

TEST_F(ConsoleTest, AnUnchangedFileIsRevalidatedWithItsETag) {
  auto first = get("/console/console.js");
  ASSERT_TRUE(first);
  const std::string etag = first->get_header_value("ETag");
  ASSERT_EQ(etag.size(), 18u);  // a quoted 64-bit hash
  auto again = get("/console/console.js", {{"If-None-Match", etag}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  auto other = get("/console/console.js", {{"If-None-Match", "\"0000000000000000\""}});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  EXPECT_NE(get("/console/console.css")->get_header_value("ETag"), etag);
}

// The policy forbids inline code, so the page must not depend on any; and
// alert fields are partner data, so the script never parses strings as HTML.
TEST_F(ConsoleTest, PageHasNoInlineCodeAndTheScriptNeverWritesHtml) {
  const std::string page = get("/")->body;
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(<script(?![^>]*\ssrc=))")));
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\son[a-z]+\s*=)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(page, std::regex(R"(\sstyle\s*=)", std::regex::icase)));
  EXPECT_FALSE(std::regex_search(page, std::regex(R"((src|href)="(https?:)?//)")));
  const std::string script = get("/console/console.js")->body;
  for (const char* sink : {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
                           "eval(", "new Function"}) {
    EXPECT_THAT(script, Not(HasSubstr(sink))) << sink;
  }
}

// With an OpenID Connect provider the page may connect to the issuer's
// origin (discovery, token) and to nothing else.
TEST(ConsoleCspTest, ConnectSrcWidensToTheIssuerOriginOnly) {
  EXPECT_EQ(console_csp(""), kConsoleCsp);
  const std::string csp = console_csp("https://login.example.nl:8443");
  EXPECT_THAT(csp, HasSubstr("connect-src 'self' https://login.example.nl:8443;"));
  EXPECT_THAT(csp, HasSubstr("script-src 'self';"));
  EXPECT_THAT(csp, HasSubstr("form-action 'self';"));
  EXPECT_EQ(csp.find("https://"), csp.rfind("https://"));  // nowhere else
}

TEST(ConsoleCspTest, OriginOfAnIssuerDropsThePathAndRefusesWhatCouldBreakThePolicy) {
  EXPECT_EQ(url_origin("https://login.example.nl/realms/tmm"), "https://login.example.nl");
  EXPECT_EQ(url_origin("http://127.0.0.1:4444"), "http://127.0.0.1:4444");
  EXPECT_EQ(url_origin("http://[::1]:4444/x?y#z"), "http://[::1]:4444");
  EXPECT_EQ(url_origin(""), "");
  EXPECT_EQ(url_origin("ftp://host/"), "");
  EXPECT_EQ(url_origin("https://"), "");
  EXPECT_EQ(url_origin("https://evil; script-src *"), "");
  EXPECT_EQ(url_origin("https://user@host/"), "");
  EXPECT_EQ(url_origin("https://a'b/"), "");
}

class ConsoleWithIssuerTest : public ConsoleTest {
 protected:
  void SetUp() override {
    add_console_routes(server_, "http://127.0.0.1:4444/oidc");
    ASSERT_TRUE(server_.start().is_ok());
  }
};

TEST_F(ConsoleWithIssuerTest, PageAndAssetsAllowTheIssuersOrigin) {
  for (const char* path : {"/", "/console/console.js"}) {
    SCOPED_TRACE(path);
    auto res = get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Security-Policy"),
              console_csp("http://127.0.0.1:4444"));
  }
}

TEST(ConsoleContentTypeTest, ByExtension) {
  EXPECT_EQ(console_content_type("a.html"), "text/html; charset=utf-8");
  EXPECT_EQ(console_content_type("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(console_content_type("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(console_content_type("a.svg"), "image/svg+xml");
  EXPECT_EQ(console_content_type("a.json.gz"), "application/octet-stream");
  EXPECT_EQ(console_content_type("js"), "application/octet-stream");
}

}  // namespace
}  // namespace mozaiek
