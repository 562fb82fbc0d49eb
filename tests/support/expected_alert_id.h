// The alert id a test expects, computed independently of the code under
// test from its documented formula: the first 32 hex digits of
// SHA-256("<rule>|<type>|<key>|<episode start ms>|<level>").
#pragma once

#include <openssl/sha.h>

#include <string>

#include "stream/time.h"

namespace mozaiek::test {

inline std::string expected_alert_id(const std::string& rule, const std::string& type,
                                     const std::string& key, EventTime episode_start, int level) {
  const std::string input = rule + "|" + type + "|" + key + "|" +
                            std::to_string(to_ms(episode_start)) + "|" + std::to_string(level);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 16; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace mozaiek::test
