// The watermark an internal record carries, read without decoding the rest:
// what the convergence stage's Kafka source merges its partitions by, so the
// stage's watermark moves as it does in replay however the partitions are
// fetched. Routed signals and routed chain events carry one; entity notices
// and erasure requests do not (they keep their place in their partition).
//
// A pure function; any thread.
#pragma once

#include <optional>
#include <string_view>

#include "stream/time.h"

namespace mozaiek {

// nullopt for records without a watermark and for malformed ones.
std::optional<EventTime> internal_record_watermark(std::string_view bytes);

}  // namespace mozaiek
