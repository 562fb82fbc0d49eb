#include "connectors/http/auth/jwk_set.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <simdjson.h>

#include "connectors/http/auth/jws.h"

namespace mozaiek::auth {
namespace {

using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using Ctx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

std::shared_ptr<EVP_PKEY> from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld), OSSL_PARAM_free);
  Ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0) return nullptr;
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) return nullptr;
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// A required base64url member of a key.
bool member(simdjson::dom::object key, const char* name, std::string& out) {
  std::string_view text;
  if (key[name].get(text) != simdjson::SUCCESS) return false;
  return base64url_decode(text, out) && !out.empty();
}

std::shared_ptr<EVP_PKEY> rsa_key(simdjson::dom::object key) {
  std::string n, e;
  if (!member(key, "n", n) || !member(key, "e", e)) return nullptr;
  // Refuse toy moduli: 2048 bits is the floor of every current baseline.
  if (n.size() * 8 < 2048 - 8) return nullptr;
  Bn bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                    nullptr),
          BN_free);
  Bn bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                    nullptr),
          BN_free);
  ParamBld bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bn_n || !bn_e || !bld ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get())) {
    return nullptr;
  }
  return from_params("RSA", bld.get());
}

std::shared_ptr<EVP_PKEY> ec_key(simdjson::dom::object key, std::string& crv) {
  std::string_view curve;
  if (key["crv"].get(curve) != simdjson::SUCCESS) return nullptr;
  const char* group = nullptr;
  std::size_t size = 0;
  if (curve == "P-256") {
    group = "prime256v1";
    size = 32;
  } else if (curve == "P-384") {
    group = "secp384r1";
    size = 48;
  } else {
    return nullptr;
  }
  std::string x, y;
  if (!member(key, "x", x) || !member(key, "y", y) || x.size() != size || y.size() != size)
    return nullptr;
  std::string point = "\x04" + x + y;  // uncompressed point
  ParamBld bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                        point.size())) {
    return nullptr;
  }
  crv = std::string(curve);
  return from_params("EC", bld.get());
}

}  // namespace

Status JwkSet::parse(std::string_view json, JwkSet& out) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS)
    return Status::error("the JWK Set is not valid JSON");
  simdjson::dom::array keys;
  if (doc["keys"].get(keys) != simdjson::SUCCESS)
    return Status::error("the JWK Set has no \"keys\" array");
  JwkSet set;
  std::size_t index = 0;
  for (simdjson::dom::element k : keys) {
    const std::string where = "JWK Set key " + std::to_string(index++);
    simdjson::dom::object key;
    if (k.get(key) != simdjson::SUCCESS) return Status::error(where + " is not an object");
    std::string_view kty, use, alg, kid;
    if (key["kty"].get(kty) != simdjson::SUCCESS) return Status::error(where + " has no kty");
    if (key["use"].get(use) == simdjson::SUCCESS && use != "sig") continue;
    if (key["alg"].get(alg) != simdjson::SUCCESS) alg = {};  // optional
    if (key["kid"].get(kid) != simdjson::SUCCESS) kid = {};  // optional
    Jwk jwk;
    jwk.kid = std::string(kid);
    jwk.alg = std::string(alg);
    jwk.kty = std::string(kty);
    if (kty == "RSA") {
      jwk.key = rsa_key(key);
    } else if (kty == "EC") {
      std::string crv;
      jwk.key = ec_key(key, crv);
      jwk.kty += ":" + crv;
    } else {
      continue;  // "oct" (symmetric) and unknown types are never used
    }
    if (!jwk.key) return Status::error(where + " (" + std::string(kty) + ") is malformed");
    set.keys_.push_back(std::move(jwk));
  }
  out = std::move(set);
  return Status::ok();
}

const Jwk* JwkSet::find(std::string_view kid) const {
  for (const auto& k : keys_)
    if (!k.kid.empty() && k.kid == kid) return &k;
  return nullptr;
}

const Jwk* JwkSet::only_key_for(std::string_view alg) const {
  const Jwk* found = nullptr;
  for (const auto& k : keys_) {
    if (!key_fits_algorithm(k, alg)) continue;
    if (found) return nullptr;
    found = &k;
  }
  return found;
}

std::vector<std::string> JwkSet::kids() const {
  std::vector<std::string> out;
  for (const auto& k : keys_) out.push_back(k.kid);
  return out;
}

bool key_fits_algorithm(const Jwk& key, std::string_view alg) {
  if (!key.alg.empty() && key.alg != alg) return false;
  if (alg.starts_with("RS") || alg.starts_with("PS")) return key.kty == "RSA";
  if (alg == "ES256") return key.kty == "EC:P-256";
  if (alg == "ES384") return key.kty == "EC:P-384";
  return false;
}

}  // namespace mozaiek::auth
