// Records as they move between sources, operators and sinks.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "stream/time.h"

namespace mozaiek {

// A borrowed view of one consumed record; valid until the source's next poll.
struct RecordView {
  std::string_view topic;
  Partition partition{0};
  Offset offset{0};
  std::string_view key;
  std::string_view value;
  ProcTime timestamp{};  // broker or file timestamp (processing time)
};

// An owned record to produce.
struct OutRecord {
  std::string topic;
  std::string key;
  std::string value;
};

}  // namespace mozaiek
