// Dead letters (config/schemas/dlq.v2.schema.json): why a record was
// rejected, where it came from, a SHA-256 and the size of its bytes, and the
// bytes themselves only sealed (AES-256-GCM under the DLQ key) and cut to a
// budget. Without a key a dead letter carries no original bytes at all.
//
// DeadLetterSealer is made once per intake task and used on its thread;
// open_dead_letter() is for `mozaiek dlq open` (repair operators holding the
// key).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "operators/records/dlq_reason.h"
#include "stream/status.h"
#include "stream/time.h"

namespace mozaiek {

inline constexpr std::string_view kDlqSchemaV2 = "mozaiek.dlq/v2";
// The default cut of the sealed original (privacy.dlq_max_sealed_bytes).
inline constexpr std::size_t kDefaultDlqMaxSealedBytes = 64 * 1024;
// The largest budget allowed: sealed, base64-encoded and wrapped in the
// record it stays well under a producer's default 1 MB message limit.
inline constexpr std::size_t kMaxDlqSealedBytes = 512 * 1024;

// An AES-256 key and its id: the first 16 hex digits of SHA-256 over the
// key, written into every record sealed with it, so a record names the key
// it needs and keys can be changed without guessing.
struct DlqKey {
  std::array<unsigned char, 32> bytes{};
  std::string id;
};

// Reads a key written as 64 hex digits (`openssl rand -hex 32`); surrounding
// whitespace is ignored. The error never repeats the text.
[[nodiscard]] Status parse_dlq_key(std::string_view hex, DlqKey& out);

// Where a rejected record came from.
struct DeadLetterOrigin {
  std::string_view topic;  // empty for records read from files
  std::int32_t partition = 0;
  std::int64_t offset = 0;
};

// The DLQ record's key: "<topic>/<partition>/<offset>". Never the original
// record's key, which may be a person identifier.
std::string dead_letter_key(const DeadLetterOrigin& origin);

class DeadLetterSealer {
 public:
  // key: nullopt writes hash and size only. max_sealed_bytes: how much of the
  // original is sealed (at most kMaxDlqSealedBytes).
  DeadLetterSealer(std::optional<DlqKey> key, std::size_t max_sealed_bytes);

  bool seals() const { return key_.has_value(); }
  // Replaces out_json with one DLQ v2 record. Fresh random nonce per record.
  void write(const Rejection& rejection, const DeadLetterOrigin& origin, std::string_view original,
             ProcTime now, std::string& out_json);

 private:
  std::optional<DlqKey> key_;
  std::size_t max_sealed_bytes_;
  std::string scratch_;
};

// A dead letter read back with its key.
struct OpenedDeadLetter {
  std::string reason;
  std::string detail;
  std::string source_topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string rejected_at;
  std::uint64_t original_size = 0;
  std::string original_sha256;
  // The sealed part of the original; all of it unless truncated.
  std::string original;
  bool truncated = false;
  bool sealed = false;  // false: the record was written without a key
  // SHA-256 of `original` matches original_sha256 (only when not truncated).
  bool hash_verified = false;
};

// Parses a DLQ v2 record and opens its sealed part with key. Errors name
// the problem: not a DLQ v2 record, sealed with another key (both ids), or a
// seal that does not open (wrong key, or the record was altered).
[[nodiscard]] Status open_dead_letter(std::string_view json, const DlqKey& key,
                                      OpenedDeadLetter& out);

}  // namespace mozaiek
