// JwkSet: the public signing keys an OpenID Connect provider publishes at
// its jwks_uri, turned into OpenSSL keys, looked up by `kid`.
//
// Immutable once parsed; shared between pool threads by the verifier.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "stream/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace mozaiek::auth {

// One public key of the set.
struct Jwk {
  std::string kid;                // may be empty
  std::string kty;                // "RSA" or "EC"
  std::string alg;                // as published; empty when the provider did not say
  std::shared_ptr<EVP_PKEY> key;  // shared: every copy of the set holds the same key
};

class JwkSet {
 public:
  JwkSet() = default;

  // Parses a JWK Set document ({"keys": [...]}). RSA and EC (P-256, P-384)
  // signing keys are kept; keys for encryption ("use": "enc"), symmetric
  // keys ("kty": "oct") and unknown key types are skipped. Fails when the
  // document is not a JWK Set or a kept key is malformed.
  [[nodiscard]] static Status parse(std::string_view json, JwkSet& out);

  // The key with this kid, or nullptr.
  const Jwk* find(std::string_view kid) const;
  // For a token without a kid: the one key fit for `alg`, or nullptr when
  // there is none or more than one.
  const Jwk* only_key_for(std::string_view alg) const;

  std::size_t size() const { return keys_.size(); }
  std::vector<std::string> kids() const;

 private:
  std::vector<Jwk> keys_;
};

// Whether a key of type `kty` (and curve) can check signatures of `alg`.
bool key_fits_algorithm(const Jwk& key, std::string_view alg);

}  // namespace mozaiek::auth
