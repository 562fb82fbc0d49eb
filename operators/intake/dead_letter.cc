#include "operators/intake/dead_letter.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "stream/json_writer.h"

namespace mozaiek {
namespace {

constexpr std::string_view kAlgorithm = "AES-256-GCM";
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[p[i] >> 4]);
    out.push_back(kDigits[p[i] & 0xf]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) return {};
  return hex(md.data(), len);
}

// Standard base64 (RFC 4648, padded).
void append_base64(std::string_view bytes, std::string& out) {
  const unsigned char* p = bytes_of(bytes);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{p[i]} << 16) | (std::uint32_t{p[i + 1]} << 8) | p[i + 2];
    out.push_back(kBase64[(v >> 18) & 0x3f]);
    out.push_back(kBase64[(v >> 12) & 0x3f]);
    out.push_back(kBase64[(v >> 6) & 0x3f]);
    out.push_back(kBase64[v & 0x3f]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 0) return;
  std::uint32_t v = std::uint32_t{p[i]} << 16;
  if (rest == 2) v |= std::uint32_t{p[i + 1]} << 8;
  out.push_back(kBase64[(v >> 18) & 0x3f]);
  out.push_back(kBase64[(v >> 12) & 0x3f]);
  out.push_back(rest == 2 ? kBase64[(v >> 6) & 0x3f] : '=');
  out.push_back('=');
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool decode_base64(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0) return false;
  for (std::size_t i = 0; i < in.size(); i += 4) {
    std::uint32_t v = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      const int d = base64_value(c);
      if (d < 0 || pad > 0) return false;
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return true;
}

bool valid_utf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

// What the seal binds the ciphertext to: moving it into another record (other
// place, other original) makes it fail to open.
std::string associated_data(std::string_view topic, std::int32_t partition, std::int64_t offset,
                            std::string_view sha256, std::uint64_t size) {
  std::string aad(kDlqSchemaV2);
  aad.append("\n").append(topic);
  aad.append("\n").append(std::to_string(partition));
  aad.append("\n").append(std::to_string(offset));
  aad.append("\n").append(sha256);
  aad.append("\n").append(std::to_string(size));
  return aad;
}

bool seal(const DlqKey& key, std::string_view aad, std::string_view plain,
          std::array<unsigned char, kNonceBytes>& nonce, std::string& cipher,
          std::array<unsigned char, kTagBytes>& tag) {
  if (RAND_bytes(nonce.data(), static_cast<int>(nonce.size())) != 1) return false;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                                 nonce.data()) != 1) {
    return false;
  }
  if (EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) !=
      1) {
    return false;
  }
  cipher.resize(plain.size());
  auto* out = reinterpret_cast<unsigned char*>(cipher.data());
  if (EVP_EncryptUpdate(ctx.get(), out, &len, bytes_of(plain), static_cast<int>(plain.size())) !=
      1) {
    return false;
  }
  int fin = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), out + len, &fin) != 1) return false;
  cipher.resize(static_cast<std::size_t>(len + fin));
  return EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(tag.size()),
                             tag.data()) == 1;
}

bool unseal(const DlqKey& key, std::string_view aad, std::string_view nonce,
            std::string_view cipher, std::string_view tag, std::string& plain) {
  if (nonce.size() != kNonceBytes || tag.size() != kTagBytes) return false;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.bytes.data(),
                                 bytes_of(nonce)) != 1) {
    return false;
  }
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad), static_cast<int>(aad.size())) !=
      1) {
    return false;
  }
  plain.resize(cipher.size());
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  if (EVP_DecryptUpdate(ctx.get(), out, &len, bytes_of(cipher), static_cast<int>(cipher.size())) !=
      1) {
    return false;
  }
  std::string tag_copy(tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(tag_copy.size()),
                          tag_copy.data()) != 1) {
    return false;
  }
  int fin = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), out + len, &fin) != 1) return false;
  plain.resize(static_cast<std::size_t>(len + fin));
  return true;
}

}  // namespace

Status parse_dlq_key(std::string_view text, DlqKey& out) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  if (text.size() != out.bytes.size() * 2) {
    return Status::error("the DLQ key must be 64 hex digits (32 bytes, e.g. `openssl rand -hex "
                         "32`), found " +
                         std::to_string(text.size()) + " characters");
  }
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.bytes.size(); ++i) {
    const int hi = digit(text[2 * i]);
    const int lo = digit(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return Status::error("the DLQ key must be 64 hex digits");
    out.bytes[i] = static_cast<unsigned char>((hi << 4) | lo);
  }
  const std::string digest = sha256_hex(
      std::string_view(reinterpret_cast<const char*>(out.bytes.data()), out.bytes.size()));
  out.id = digest.substr(0, 16);
  return Status::ok();
}

std::string dead_letter_key(const DeadLetterOrigin& origin) {
  return std::string(origin.topic) + "/" + std::to_string(origin.partition) + "/" +
         std::to_string(origin.offset);
}

DeadLetterSealer::DeadLetterSealer(std::optional<DlqKey> key, std::size_t max_sealed_bytes)
    : key_(std::move(key)), max_sealed_bytes_(std::min(max_sealed_bytes, kMaxDlqSealedBytes)) {}

void DeadLetterSealer::write(const Rejection& rejection, const DeadLetterOrigin& origin,
                             std::string_view original, ProcTime now, std::string& out_json) {
  const std::string sha = sha256_hex(original);
  const std::string_view topic = valid_utf8(origin.topic) ? origin.topic : "";
  out_json.clear();
  JsonWriter w(out_json);
  w.begin_object()
      .key("schema")
      .string(kDlqSchemaV2)
      .key("reason")
      .string(to_string(rejection.reason))
      // Details name fields, never values (Rejection); still kept to JSON.
      .key("detail")
      .string(valid_utf8(rejection.detail) ? std::string_view(rejection.detail) : "")
      .key("source_topic")
      .string(topic)
      .key("partition")
      .integer(origin.partition)
      .key("offset")
      .integer(origin.offset)
      .key("rejected_at")
      .string(format_rfc3339(now))
      .key("original_size")
      .integer(static_cast<std::int64_t>(original.size()))
      .key("original_sha256")
      .string(sha)
      .key("sealed");
  std::array<unsigned char, kNonceBytes> nonce{};
  std::array<unsigned char, kTagBytes> tag{};
  const std::string_view part = original.substr(0, max_sealed_bytes_);
  if (!key_ ||
      !seal(*key_, associated_data(topic, origin.partition, origin.offset, sha, original.size()),
            part, nonce, scratch_, tag)) {
    // Without a key (or should OpenSSL fail) the original stays out entirely.
    w.null();
    w.end_object();
    return;
  }
  w.begin_object().key("alg").string(kAlgorithm).key("key_id").string(key_->id).key("nonce");
  // Written by hand to encode straight into the output, without a temporary.
  auto b64 = [&](std::string_view bytes) {
    w.raw("\"");
    append_base64(bytes, out_json);
    out_json.push_back('"');
  };
  b64(std::string_view(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
  w.key("ciphertext");
  b64(scratch_);
  w.key("tag");
  b64(std::string_view(reinterpret_cast<const char*>(tag.data()), tag.size()));
  w.key("bytes")
      .integer(static_cast<std::int64_t>(part.size()))
      .key("truncated")
      .boolean(part.size() < original.size())
      .end_object();
  w.end_object();
}

Status open_dead_letter(std::string_view json, const DlqKey& key, OpenedDeadLetter& out) {
  out = OpenedDeadLetter{};
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Status::error("not a JSON object");
  }
  std::string_view schema;
  if (doc["schema"].get(schema) != simdjson::SUCCESS || schema != kDlqSchemaV2) {
    return Status::error(std::string("not a ") + std::string(kDlqSchemaV2) + " record");
  }
  std::string_view s;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  if (doc["reason"].get(s) == simdjson::SUCCESS) out.reason = s;
  if (doc["detail"].get(s) == simdjson::SUCCESS) out.detail = s;
  if (doc["source_topic"].get(s) == simdjson::SUCCESS) out.source_topic = s;
  if (doc["rejected_at"].get(s) == simdjson::SUCCESS) out.rejected_at = s;
  if (doc["partition"].get(i) == simdjson::SUCCESS) out.partition = static_cast<std::int32_t>(i);
  if (doc["offset"].get(i) == simdjson::SUCCESS) out.offset = i;
  if (doc["original_size"].get(u) == simdjson::SUCCESS) out.original_size = u;
  if (doc["original_sha256"].get(s) == simdjson::SUCCESS) out.original_sha256 = s;
  simdjson::dom::element sealed;
  if (doc["sealed"].get(sealed) != simdjson::SUCCESS || sealed.is_null()) {
    return Status::ok();  // written without a key: nothing to open
  }
  out.sealed = true;
  std::string_view key_id, nonce_b64, cipher_b64, tag_b64;
  bool truncated = false;
  if (sealed["key_id"].get(key_id) != simdjson::SUCCESS ||
      sealed["nonce"].get(nonce_b64) != simdjson::SUCCESS ||
      sealed["ciphertext"].get(cipher_b64) != simdjson::SUCCESS ||
      sealed["tag"].get(tag_b64) != simdjson::SUCCESS ||
      sealed["truncated"].get(truncated) != simdjson::SUCCESS) {
    return Status::error("sealed: missing key_id, nonce, ciphertext, tag or truncated");
  }
  if (key_id != key.id) {
    return Status::error("sealed with key " + std::string(key_id) + ", but the key given is " +
                         key.id + ": use the DLQ key that was configured when it was written");
  }
  std::string nonce, cipher, tag;
  if (!decode_base64(nonce_b64, nonce) || !decode_base64(cipher_b64, cipher) ||
      !decode_base64(tag_b64, tag)) {
    return Status::error("sealed: nonce, ciphertext or tag is not base64");
  }
  const std::string aad = associated_data(out.source_topic, out.partition, out.offset,
                                          out.original_sha256, out.original_size);
  if (!unseal(key, aad, nonce, cipher, tag, out.original)) {
    out.original.clear();
    return Status::error("the seal does not open with this key: wrong key, or the record was "
                         "altered");
  }
  out.truncated = truncated;
  out.hash_verified = !truncated && sha256_hex(out.original) == out.original_sha256;
  return Status::ok();
}

}  // namespace mozaiek
