// Narrow I/O interfaces between the runtime and the outside world. Kafka,
// NDJSON files and test fakes implement them; operators never see which.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "stream/record.h"
#include "stream/status.h"

namespace mozaiek {

// A batch of consumed records. The views stay valid until the next poll().
struct RecordBatch {
  std::vector<RecordView> records;
  bool end_of_input = false;  // finite sources (files) set this once drained
};

// Pull-based source of records. Not thread-safe: one task loop owns it.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Fills `batch` with up to max_records records, waiting at most timeout.
  virtual Status poll(RecordBatch& batch, std::size_t max_records, Millis timeout) = 0;
  // Marks everything up to and including the records handed out so far as
  // processed; Kafka commits offsets, files do nothing.
  virtual Status commit() = 0;
};

// Sink for produced records. produce() may buffer; flush() returns once every
// record produced so far is durable (acknowledged by the broker, written to
// disk), or with the first delivery error.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  virtual Status produce(std::string_view topic, std::string_view key, std::string_view value) = 0;
  virtual Status flush(Millis timeout) = 0;
};

}  // namespace mozaiek
