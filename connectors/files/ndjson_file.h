// NDJSON files as a record source and sink, for replay, backfill and tests.
// The source maps each file and hands out one record per non-empty line
// (partition = file index, offset = line number); the sink buffers lines and
// writes them in large chunks.
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "stream/io.h"

namespace mozaiek {

class NdjsonSource final : public RecordSource {
 public:
  // Opens every file up front so a missing file fails before any work.
  static std::unique_ptr<NdjsonSource> open(const std::vector<std::string>& paths, Status& status);
  ~NdjsonSource() override;
  NdjsonSource(const NdjsonSource&) = delete;
  NdjsonSource& operator=(const NdjsonSource&) = delete;

  Status poll(RecordBatch& batch, std::size_t max_records, Millis timeout) override;
  Status commit() override { return Status::ok(); }
  std::size_t total_bytes() const;
  std::size_t consumed_bytes() const { return consumed_bytes_; }

 private:
  struct MappedFile {
    std::string path;
    const char* data = nullptr;
    std::size_t size = 0;
  };
  NdjsonSource() = default;
  std::vector<MappedFile> files_;
  std::size_t file_ = 0;
  std::size_t pos_ = 0;
  std::int64_t line_ = 0;
  std::size_t consumed_bytes_ = 0;
};

class NdjsonSink final : public RecordSink {
 public:
  static std::unique_ptr<NdjsonSink> open(const std::string& path, Status& status);
  ~NdjsonSink() override;
  NdjsonSink(const NdjsonSink&) = delete;
  NdjsonSink& operator=(const NdjsonSink&) = delete;

  // Writes value as one line; topic and key are not part of the file.
  Status produce(std::string_view topic, std::string_view key, std::string_view value) override;
  Status flush(Millis timeout) override;

 private:
  NdjsonSink() = default;
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string buffer_;
};

}  // namespace mozaiek
