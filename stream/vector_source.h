// VectorSource: a RecordSource over records already in memory (the
// in-process benchmark). Hands them out in order, then reports the end.
// Borrows the vector, which must outlive the source; one thread.
#pragma once

#include <algorithm>
#include <vector>

#include "stream/io.h"

namespace mozaiek {

class VectorSource final : public RecordSource {
 public:
  explicit VectorSource(const std::vector<OutRecord>& records) : records_(records) {}

  Status poll(RecordBatch& batch, std::size_t max_records, Millis /*timeout*/) override {
    const std::size_t n = std::min(max_records, records_.size() - next_);
    batch.records.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const OutRecord& r = records_[next_ + i];
      RecordView& view = batch.records[i];
      view.topic = r.topic;
      view.key = r.key;
      view.value = r.value;
      view.offset = Offset{static_cast<std::int64_t>(next_ + i)};
    }
    next_ += n;
    batch.end_of_input = next_ == records_.size();
    return Status::ok();
  }
  Status commit() override { return Status::ok(); }

 private:
  const std::vector<OutRecord>& records_;
  std::size_t next_ = 0;
};

}  // namespace mozaiek
