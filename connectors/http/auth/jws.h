// The compact JSON Web Signature form of a JWT (header.payload.signature):
// splitting and base64url-decoding it, and checking its signature with
// OpenSSL. Only asymmetric algorithms are known here (RS*, PS*, ES256,
// ES384): "none" and the HMAC family are refused before any key is looked
// at, so a public key can never be used as an HMAC secret.
//
// Free functions without state; safe on any thread.
#pragma once

#include <string>
#include <string_view>

#include "stream/status.h"

namespace mozaiek::auth {

struct Jwk;

// base64url without padding (RFC 7515 section 2). Returns false on a
// character outside the alphabet, on padding and on an impossible length.
bool base64url_decode(std::string_view in, std::string& out);
std::string base64url_encode(std::string_view in);

struct CompactJws {
  std::string header_json;
  std::string payload_json;
  std::string signature;      // raw bytes
  std::string signing_input;  // "<header>.<payload>" as received
};

// Splits and decodes a compact JWS. Fails (without echoing the token) on
// anything but three base64url parts.
[[nodiscard]] Status split_compact_jws(std::string_view token, CompactJws& out);

// Whether mozaiek accepts tokens signed with `alg` at all.
bool algorithm_allowed(std::string_view alg);

// Checks `signature` over `signing_input` with `key` under `alg` (which
// must be allowed and fit the key). ECDSA signatures are the raw R||S
// form JWS uses.
bool verify_signature(std::string_view alg, const Jwk& key, std::string_view signing_input,
                      std::string_view signature);

}  // namespace mozaiek::auth
