#include "connectors/http/auth/jws.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <memory>

#include "connectors/http/auth/jwk_set.h"

namespace mozaiek::auth {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The largest token we look at; real access tokens are a few kB.
constexpr std::size_t kMaxTokenBytes = 16 * 1024;

const EVP_MD* digest_of(std::string_view alg) {
  const std::string_view bits = alg.size() == 5 ? alg.substr(2) : std::string_view{};
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

// JWS carries ECDSA signatures as R||S; OpenSSL verifies DER.
bool ecdsa_raw_to_der(std::string_view raw, std::size_t half, std::string& der) {
  if (raw.size() != 2 * half) return false;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(half),
                        nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data() + half),
                        static_cast<int>(half), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  const int len = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (len <= 0) return false;
  der.resize(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(der.data());
  return i2d_ECDSA_SIG(sig.get(), &p) == len;
}

}  // namespace

bool base64url_decode(std::string_view in, std::string& out) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i)
      t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    return t;
  }();
  if (in.size() % 4 == 1) return false;
  out.clear();
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = table[static_cast<unsigned char>(c)];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero (a canonical encoding).
  return (acc & ((1u << bits) - 1)) == 0;
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

Status split_compact_jws(std::string_view token, CompactJws& out) {
  if (token.empty()) return Status::error("empty token");
  if (token.size() > kMaxTokenBytes) return Status::error("token too large");
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos)
    return Status::error("not a signed JWT (header.payload.signature)");
  CompactJws jws;
  if (!base64url_decode(token.substr(0, first), jws.header_json) ||
      !base64url_decode(token.substr(first + 1, second - first - 1), jws.payload_json) ||
      !base64url_decode(token.substr(second + 1), jws.signature)) {
    return Status::error("token is not base64url");
  }
  if (jws.signature.empty()) return Status::error("token is not signed");
  jws.signing_input = std::string(token.substr(0, second));
  out = std::move(jws);
  return Status::ok();
}

bool algorithm_allowed(std::string_view alg) {
  return alg == "RS256" || alg == "RS384" || alg == "RS512" || alg == "PS256" || alg == "PS384" ||
         alg == "PS512" || alg == "ES256" || alg == "ES384";
}

bool verify_signature(std::string_view alg, const Jwk& key, std::string_view signing_input,
                      std::string_view signature) {
  if (!algorithm_allowed(alg) || !key.key || !key_fits_algorithm(key, alg)) return false;
  const EVP_MD* md = digest_of(alg);
  if (md == nullptr) return false;
  std::string der;
  std::string_view sig = signature;
  if (alg.starts_with("ES")) {
    if (!ecdsa_raw_to_der(signature, alg == "ES256" ? 32 : 48, der)) return false;
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key.key.get()) != 1) return false;
  if (alg.starts_with("PS")) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return false;
    }
  } else if (alg.starts_with("RS")) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

}  // namespace mozaiek::auth
