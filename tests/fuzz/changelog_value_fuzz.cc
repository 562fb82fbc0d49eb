// Values of the state changelog (and of the RocksDB stores they restore):
// the first byte picks the store's codec, the rest is the value as a
// restore reads it from <group_id>.internal.changelog. Convergence subjects
// (per subject type's rule), linking entities, and the oversight melding,
// person, location and erased-counts values. Properties: no decoder throws
// or reads out of bounds, and what decodes re-encodes to bytes that decode
// and encode to the same bytes again.
#include <string>

#include "operators/convergence/subject_codec.h"
#include "operators/linking/link_state.h"
#include "operators/oversight/oversight_records.h"
#include "tests/fuzz/fuzz_support.h"

namespace mozaiek::fuzz {
namespace {

template <class T, class Encode, class Decode>
void check_fixed_point(std::string_view in, Encode encode, Decode decode) {
  T value;
  if (!decode(in, value)) return;
  std::string first, second;
  encode(value, first);
  T back;
  FUZZ_CHECK(decode(first, back));
  encode(back, second);
  FUZZ_CHECK(first == second);
}

}  // namespace
}  // namespace mozaiek::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mozaiek;
  namespace ov = mozaiek::oversight;
  if (size == 0) return 0;
  const OperatorConfig& config = fuzz::shipped_config();
  static convergence::SubjectCodec subjects(config);
  static linking::LinkCodec links(config);
  const std::string_view in = fuzz::bytes(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      // A convergence subject, decoded with the rule of a subject type.
      const auto& rule = config.rules[(data[0] / 6) % kSubjectTypeCount];
      const auto params = convergence::RuleParams::from(rule, days(30), config.retention);
      convergence::SubjectHeader header;
      (void)convergence::SubjectCodec::read_header(in, header);
      fuzz::check_fixed_point<convergence::Subject>(
          in, [&](const convergence::Subject& s, std::string& out) { subjects.encode(s, out); },
          [&](std::string_view b, convergence::Subject& s) {
            return subjects.decode(b, params, s);
          });
      break;
    }
    case 1:
      fuzz::check_fixed_point<linking::EntityLinks>(
          in, [&](const linking::EntityLinks& e, std::string& out) { links.encode(e, out); },
          [&](std::string_view b, linking::EntityLinks& e) { return links.decode(b, e); });
      break;
    case 2:
      fuzz::check_fixed_point<ov::Melding>(
          in, [](const ov::Melding& v, std::string& out) { ov::encode(v, out); },
          [](std::string_view b, ov::Melding& v) { return ov::decode(b, v); });
      break;
    case 3:
      fuzz::check_fixed_point<ov::Person>(
          in, [](const ov::Person& v, std::string& out) { ov::encode(v, out); },
          [](std::string_view b, ov::Person& v) { return ov::decode(b, v); });
      break;
    case 4:
      fuzz::check_fixed_point<ov::LocationState>(
          in, [](const ov::LocationState& v, std::string& out) { ov::encode(v, out); },
          [](std::string_view b, ov::LocationState& v) { return ov::decode(b, v); });
      break;
    case 5:
      fuzz::check_fixed_point<ov::ErasedCounts>(
          in, [](const ov::ErasedCounts& v, std::string& out) { ov::encode(v, out); },
          [](std::string_view b, ov::ErasedCounts& v) { return ov::decode(b, v); });
      break;
  }
  return 0;
}
