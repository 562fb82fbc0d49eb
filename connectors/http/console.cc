#include <httplib.h>

#include "connectors/http/console.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "connectors/http/console_files.h"

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

void set_common_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy", std::string(kConsoleCsp));
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("X-Frame-Options", "DENY");
}

}  // namespace

std::string_view console_content_type(std::string_view name) {
  if (ends_with(name, ".html")) return "text/html; charset=utf-8";
  if (ends_with(name, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css")) return "text/css; charset=utf-8";
  if (ends_with(name, ".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

void serve_console_file(std::string_view name, std::string_view if_none_match,
                        httplib::Response& res) {
  set_common_headers(res);
  for (const Asset& a : assets()) {
    if (a.name != name) continue;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("ETag", a.etag);
    if (!if_none_match.empty() && if_none_match == a.etag) {
      res.status = 304;
      return;
    }
    res.status = 200;
    res.set_content(a.body.data(), a.body.size(), std::string(console_content_type(name)));
    return;
  }
  res.status = 404;
  res.set_content("no such console file\n", "text/plain; charset=utf-8");
}

}  // namespace mozaiek
