#include "connectors/http/api/console.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "connectors/http/api/console_files.h"

namespace mozaiek {
namespace {

struct Asset {
  std::string_view name;
  std::string_view body;
  std::string etag;
};

std::string etag_of(std::string_view body) {
  std::uint64_t h = 14695981039346656037ULL;  // FNV-1a 64
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

const std::vector<Asset>& assets() {
  static const std::vector<Asset> all = [] {
    std::vector<Asset> out;
    for (const auto& f : console_files::kFiles) {
      std::string_view body(reinterpret_cast<const char*>(f.data), f.size);
      out.push_back({f.name, body, etag_of(body)});
    }
    return out;
  }();
  return all;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void set_common_headers(HttpResponse& res, std::string_view csp) {
  res.headers.emplace_back("Content-Security-Policy", std::string(csp));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("X-Frame-Options", "DENY");
}

}  // namespace

std::string url_origin(std::string_view url) {
  std::string_view scheme;
  if (url.starts_with("https://")) {
    scheme = "https://";
  } else if (url.starts_with("http://")) {
    scheme = "http://";
  } else {
    return "";
  }
  std::string_view rest = url.substr(scheme.size());
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.empty()) return "";
  for (char c : authority) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return "";  // no user info, spaces, quotes or semicolons in a policy
  }
  return std::string(scheme) + std::string(authority);
}

std::string console_csp(std::string_view connect_origin) {
  std::string csp(kConsoleCsp);
  if (connect_origin.empty()) return csp;
  const std::string self = "connect-src 'self'";
  csp.replace(csp.find(self), self.size(), self + " " + std::string(connect_origin));
  return csp;
}

std::string_view console_content_type(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

HttpResponse serve_console_file(std::string_view name, std::string_view if_none_match,
                                std::string_view csp) {
  HttpResponse res;
  set_common_headers(res, csp);
  for (const Asset& a : assets()) {
    if (a.name != name) continue;
    res.headers.emplace_back("Cache-Control", "no-cache");
    res.headers.emplace_back("ETag", a.etag);
    if (!if_none_match.empty() && if_none_match == a.etag) {
      res.status = 304;
      res.content_type.clear();
      return res;
    }
    res.status = 200;
    res.content_type = console_content_type(name);
    res.body = a.body;
    return res;
  }
  res.status = 404;
  res.content_type = "text/plain; charset=utf-8";
  res.body = "no such console file\n";
  return res;
}

void add_console_routes(HttpServer& server, std::string_view issuer) {
  // The page talks to the provider only for discovery and the token.
  const std::string csp = console_csp(url_origin(issuer));
  // Public: a browser loads the page before it can log in; it holds no data.
  server.route("GET", "/", Roles::anyone(), [csp](const HttpRequest& req) {
    return serve_console_file("index.html", req.header("If-None-Match"), csp);
  });
  server.route("GET", R"(/console/([A-Za-z0-9._-]+))", Roles::anyone(),
               [csp](const HttpRequest& req) {
                 return serve_console_file(req.matches[1], req.header("If-None-Match"), csp);
               });
}

}  // namespace mozaiek
