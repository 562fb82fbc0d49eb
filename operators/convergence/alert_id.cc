#include "operators/convergence/alert_id.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string>

namespace mozaiek::convergence {
namespace {

// Fetched once: EVP_sha256() makes every EVP_Digest look the algorithm up in
// the provider again, which cost more than hashing the few bytes of input.
// The fetched method is immutable and safe to share between threads.
const EVP_MD* sha256() {
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return fetched != nullptr ? fetched : EVP_sha256();
}

void append_number(std::string& out, std::int64_t v) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

AlertIdText make_alert_id(std::string_view rule, SubjectType type, std::string_view key,
                          std::int64_t episode_start_ms, int level) {
  return make_alert_id(rule, to_string(type), key, episode_start_ms, level);
}

AlertIdText make_alert_id(std::string_view rule, std::string_view type, std::string_view key,
                          std::int64_t episode_start_ms, int level) {
  std::string input;
  input.reserve(rule.size() + key.size() + 48);
  input.append(rule).append("|").append(type).append("|").append(key).append("|");
  append_number(input, episode_start_ms);
  input.push_back('|');
  append_number(input, level);

  unsigned char digest[SHA256_DIGEST_LENGTH];
  // SHA-256 over a short in-memory string cannot fail short of memory
  // exhaustion; on failure the digest stays zero, which is still deterministic.
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, sha256(), nullptr) != 1) {
    std::fill(std::begin(digest), std::end(digest), 0);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  AlertIdText out{};
  for (std::size_t i = 0; i < out.size() / 2; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return out;
}

AlertIdText reissued_alert_id(std::string_view alert_id) {
  return make_alert_id("reissued", "alert", alert_id, 0, 0);
}

}  // namespace mozaiek::convergence
