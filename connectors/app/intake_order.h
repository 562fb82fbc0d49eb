// How the stages order and resume their input: the event time their Kafka
// sources merge partitions by (intake: partner records by reported_at;
// convergence: internal records by the watermark they carry), and the
// intake watermarks carried in the commit metadata of its offsets.
//
// Records are merged by `reported_at`, the order partners report in and the
// order `mozaiek generate` writes and `replay` reads: a drain of a backlog
// then meets the watermark as replay does. The watermarks belong to exactly
// the committed records, so a restart from those offsets continues with the
// watermarks the uninterrupted run had there.
//
// Pure functions; called on the intake task's thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "operators/model/model.h"
#include "stream/io.h"
#include "stream/watermark_tracker.h"

namespace mozaiek {

// reported_at of a signal or chain event (JSON text) in ms; nullopt when it
// has none that parses. Reads only as far as that field.
std::optional<std::int64_t> reported_at_ms(std::string_view json);
// The same for a record: intake's merge order.
std::optional<std::int64_t> partner_record_ms(const RecordView& record);

// The watermark an internal record carries, in ms (the convergence stage's
// merge order; operators/records/internal_time.h).
std::optional<std::int64_t> internal_record_ms(const RecordView& record);

// "mozaiek-watermarks/1 floor=<ms> <source>=<ms> ...": sources by name, so a
// changed source list restores what still matches.
std::string encode_watermarks(const WatermarkTracker& watermarks,
                              const std::vector<SourcePolicy>& sources);

// Raises the tracker to what each encoding holds (the newest wins); other
// text is ignored. Returns how many encodings were applied.
std::size_t restore_watermarks(const std::vector<std::string>& encoded,
                               const std::vector<SourcePolicy>& sources,
                               WatermarkTracker& watermarks, ProcTime now);

}  // namespace mozaiek
