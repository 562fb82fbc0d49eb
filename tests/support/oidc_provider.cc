#include "tests/support/oidc_provider.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "connectors/http/auth/jws.h"
#include "tests/support/ports.h"

namespace mozaiek::test {
namespace {

constexpr const char* kScript = MOZAIEK_SOURCE_DIR "/tests/integration/oidc/oidc-provider.sh";

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  if (auto nl = s.rfind('\n'); nl != std::string::npos) s = s.substr(nl + 1);
  return s;
}

// A string member of a JSON object, or empty.
std::string json_member(const std::string& json, const char* name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::string_view v;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return "";
  if (doc[name].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

}  // namespace

OidcProvider::OidcProvider() : OidcProvider(Options{}) {}

OidcProvider::OidcProvider(Options options) : options_(std::move(options)) { start(); }

OidcProvider::~OidcProvider() { stop(); }

void OidcProvider::start() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/mozaiek-oidc-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    error_ = "cannot create a work directory from " + templ;
    return;
  }
  workdir_ = templ;
  owned_ = true;
  // The port is free now; the script refuses it if another process takes
  // it first, and we try another.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int port = free_loopback_ports();
    if (port == 0) {
      error_ = "no free loopback port for the provider";
      return;
    }
    const std::string out = workdir_ + "/start.out";
    const std::string err = workdir_ + "/start.err";
    const std::string cmd =
        "MOZAIEK_OIDC_OWNER_PID=" + std::to_string(::getpid()) +
        " MOZAIEK_OIDC_SHORT_TTL=" + std::to_string(options_.short_ttl_seconds) +
        " MOZAIEK_OIDC_AUDIENCE=" + shell_quote(options_.audience) + " bash " +
        shell_quote(kScript) + " start " + shell_quote(workdir_) + " " + std::to_string(port) +
        " >" + shell_quote(out) + " 2>" + shell_quote(err) + " </dev/null";
    const int status = std::system(cmd.c_str());
    if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      issuer_ = trim(read_file(out));
      if (!issuer_.empty()) return;
      error_ = std::string(kScript) + " start printed no issuer:\n" + read_file(err);
      return;
    }
    error_ = std::string(kScript) + " start failed:\n" + read_file(err);
    if (error_.find("already in use") == std::string::npos) return;
  }
}

void OidcProvider::stop() {
  if (!owned_) return;
  const std::string cmd = "bash " + shell_quote(kScript) + " stop " + shell_quote(workdir_) +
                          " >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
  issuer_.clear();
  if (std::getenv("MOZAIEK_KEEP_TEST_DIRS") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(workdir_, ec);
  }
  owned_ = false;
}

std::string OidcProvider::log() const { return read_file(workdir_ + "/provider.log"); }

std::string OidcProvider::client_token(std::string_view client_id) {
  last_error_.clear();
  if (!running()) {
    last_error_ = "provider not running: " + error_;
    return "";
  }
  httplib::Client client(issuer_);
  client.set_connection_timeout(5);
  client.set_read_timeout(10);
  httplib::Params form{{"grant_type", "client_credentials"},
                       {"client_id", std::string(client_id)},
                       {"client_secret", std::string(client_id) + "-secret"},
                       {"scope", "mozaiek"}};
  auto res = client.Post("/token", form);
  if (!res) {
    last_error_ = "token endpoint: " + httplib::to_string(res.error());
    return "";
  }
  if (res->status != 200) {
    last_error_ = "token endpoint: HTTP " + std::to_string(res->status) + " " + res->body;
    return "";
  }
  std::string token = json_member(res->body, "access_token");
  if (token.empty()) last_error_ = "token endpoint answered without access_token: " + res->body;
  return token;
}

std::string OidcProvider::user_token(std::string_view user, const std::string& redirect_uri) {
  last_error_.clear();
  if (!running()) {
    last_error_ = "provider not running: " + error_;
    return "";
  }
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) {
    last_error_ = "no random bytes for PKCE";
    return "";
  }
  const std::string verifier = auth::base64url_encode(
      std::string(reinterpret_cast<char*>(random), sizeof random));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size(), digest);
  const std::string challenge = auth::base64url_encode(
      std::string(reinterpret_cast<char*>(digest), sizeof digest));

  httplib::Client client(issuer_);
  client.set_read_timeout(10);
  std::map<std::string, std::string> cookies;
  auto remember = [&](const httplib::Result& res) {
    for (std::size_t i = 0; i < res->get_header_value_count("Set-Cookie"); ++i) {
      const std::string value = res->get_header_value("Set-Cookie", i);
      const auto eq = value.find('=');
      const auto end = value.find(';');
      if (eq != std::string::npos && eq < end)
        cookies[value.substr(0, eq)] = value.substr(eq + 1, end - eq - 1);
    }
  };
  auto cookie_header = [&] {
    std::string h;
    for (const auto& [k, v] : cookies) h += (h.empty() ? "" : "; ") + k + "=" + v;
    return httplib::Headers{{"Cookie", h}};
  };
  auto path_of = [&](std::string url) {
    return url.starts_with(issuer_) ? url.substr(issuer_.size()) : url;
  };

  const std::string query = "/auth?" + httplib::detail::params_to_query_str(
                                           {{"client_id", "mozaiek-console"},
                                            {"response_type", "code"},
                                            {"scope", "openid profile mozaiek"},
                                            {"redirect_uri", redirect_uri},
                                            {"code_challenge", challenge},
                                            {"code_challenge_method", "S256"},
                                            {"state", "test"}});
  httplib::Result res = client.Get(query, cookie_header());
  const std::regex action(R"re(<form[^>]*action="([^"]+)")re");
  const std::regex hidden(R"re(<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)")re");
  std::string code;
  for (int step = 0; step < 10 && res; ++step) {
    remember(res);
    if (res->status == 302 || res->status == 303) {
      const std::string location = res->get_header_value("Location");
      if (location.starts_with(redirect_uri)) {
        httplib::Params params;
        httplib::detail::parse_query_text(location.substr(location.find('?') + 1), params);
        if (auto it = params.find("code"); it != params.end()) code = it->second;
        break;
      }
      res = client.Get(path_of(location), cookie_header());
      continue;
    }
    std::smatch form;
    if (res->status != 200 || !std::regex_search(res->body, form, action)) break;
    httplib::Params fields;
    for (auto it = std::sregex_iterator(res->body.begin(), res->body.end(), hidden);
         it != std::sregex_iterator(); ++it) {
      fields.emplace((*it)[1], (*it)[2]);
    }
    if (res->body.find("name=\"login\"") != std::string::npos) {
      fields.emplace("login", std::string(user));
      fields.emplace("password", "any-password");
    }
    const std::string target = path_of(form[1]);
    res = client.Post(target, cookie_header(), fields);
  }
  if (code.empty()) {
    last_error_ = "login as " + std::string(user) + " did not reach the redirect URI (" +
                  (res ? "HTTP " + std::to_string(res->status) + " " + res->body.substr(0, 300)
                       : httplib::to_string(res.error())) +
                  ")";
    return "";
  }
  httplib::Params form{{"grant_type", "authorization_code"},
                       {"code", code},
                       {"redirect_uri", redirect_uri},
                       {"client_id", "mozaiek-console"},
                       {"code_verifier", verifier}};
  auto token = client.Post("/token", form);
  if (!token || token->status != 200) {
    last_error_ = "code exchange: " +
                  (token ? "HTTP " + std::to_string(token->status) + " " + token->body
                         : httplib::to_string(token.error()));
    return "";
  }
  std::string access = json_member(token->body, "access_token");
  if (access.empty()) last_error_ = "code exchange answered without access_token";
  return access;
}

std::string OidcProvider::rotate_keys() {
  last_error_.clear();
  httplib::Client client(issuer_);
  client.set_read_timeout(30);  // a new RSA key takes a moment
  auto res = client.Post("/admin/rotate", "", "application/json");
  if (!res || res->status != 200) {
    last_error_ = "rotate: " +
                  (res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error()));
    return "";
  }
  return json_member(res->body, "kid");
}

}  // namespace mozaiek::test
