#include "operators/convergence/alert_id.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <iterator>
#include <string>

namespace mozaiek::convergence {

AlertIdText make_alert_id(std::string_view rule, SubjectType type, std::string_view key,
                          std::int64_t episode_start_ms, int level) {
  return make_alert_id(rule, to_string(type), key, episode_start_ms, level);
}

AlertIdText make_alert_id(std::string_view rule, std::string_view type, std::string_view key,
                          std::int64_t episode_start_ms, int level) {
  std::string input;
  input.reserve(rule.size() + key.size() + 48);
  input.append(rule).append("|").append(type).append("|").append(key).append("|");
  input.append(std::to_string(episode_start_ms)).append("|").append(std::to_string(level));

  unsigned char digest[SHA256_DIGEST_LENGTH];
  // SHA-256 over a short in-memory string cannot fail short of memory
  // exhaustion; on failure the digest stays zero, which is still deterministic.
  unsigned int len = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
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

}  // namespace mozaiek::convergence
