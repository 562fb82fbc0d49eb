// EntityNotice: what one entity tells a linked entity on another partition.
// It travels on the internal subjects topic keyed by the receiver
// ("<type>:<key>"), so it lands where the receiver's state lives.
//
// Three kinds: a score notice ("my own score at event time `at`, without the
// signals we share, and whether I have signals of my own"), a
// participation notice ("you are listed in my network alert `alert_id`"),
// and an erasure notice ("I was erased: forget me", sent by the owner of an
// erased entity to the other ends of its links and to the location it left
// from). Receivers never answer a notice with a notice: no feedback loops.
//
// Layout (kind byte 3, see operators/records/internal_record.h): u8 kind, u8 flags
// (1 = has own signals, 2 = participation, 4 = erased), u8 from type, string from key,
// u8 to type, string to key, zigzag varint ms `at`, 8-byte double own score,
// varint count + strings of source names, string alert id. Strings are
// varint length + bytes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "operators/model/model.h"

namespace mozaiek {

struct EntityNotice {
  SubjectType from_type = SubjectType::person;
  std::string from_key;
  SubjectType to_type = SubjectType::person;
  std::string to_key;
  EventTime at{};
  double own_score = 0;  // decayed to `at`, shared signals left out
  bool has_own_signals = false;
  std::vector<std::string> sources;  // organisations behind own_score
  bool participation = false;
  std::string alert_id;  // participation: the network alert listing the receiver
  bool erased = false;   // the sender was erased; nothing else is set
};

// Replaces out with the encoding (capacity reused).
void encode_notice(const EntityNotice& n, std::string& out);
// False on anything but a complete, well-formed notice.
[[nodiscard]] bool decode_notice(std::string_view bytes, EntityNotice& out);

}  // namespace mozaiek
