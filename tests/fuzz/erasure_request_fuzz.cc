// The body of POST /api/erasure. Properties: the parser never throws or
// reads out of bounds; an accepted request names a key of its type, its
// bounded reason, and its erasure record (internal record kind 4) decodes
// to the same entity.
#include <string>

#include "operators/erasure/erasure_request.h"
#include "operators/records/erasure_record.h"
#include "operators/records/internal_record.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  ErasureRequest request;
  if (parse_erasure_json(fuzz::bytes(data, size), "fuzz-officer", fuzz::pseudonymiser(), request)) {
    return 0;
  }
  FUZZ_CHECK(!request.key.empty());
  FUZZ_CHECK(request.reason.size() <= kMaxAuditReasonChars);
  FUZZ_CHECK(request.user == "fuzz-officer");
  if (request.type == SubjectType::person) FUZZ_CHECK(request.key.size() == 64);
  std::string bytes;
  const ErasureRecord record{request.type, request.key, ProcTime{Millis{1'700'000'000'000}}};
  encode_erasure(record, bytes);
  FUZZ_CHECK(internal_record_kind(bytes) == InternalRecordKind::erasure);
  ErasureRecord back;
  FUZZ_CHECK(decode_erasure(bytes, back));
  FUZZ_CHECK(back.type == record.type && back.key == record.key &&
             back.requested_at == record.requested_at);
  return 0;
}
