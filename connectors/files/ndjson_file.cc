#include "connectors/files/ndjson_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mozaiek {
namespace {
constexpr std::size_t kSinkBufferBytes = 1 << 20;
}

std::unique_ptr<NdjsonSource> NdjsonSource::open(const std::vector<std::string>& paths,
                                                 Status& status) {
  std::unique_ptr<NdjsonSource> source(new NdjsonSource());
  for (const auto& path : paths) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      status = Status::error("cannot open input " + path + ": " + std::strerror(errno));
      return nullptr;
    }
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      status = Status::error("input " + path + " is not a regular file");
      return nullptr;
    }
    MappedFile f;
    f.path = path;
    f.size = static_cast<std::size_t>(st.st_size);
    if (f.size > 0) {
      void* p = ::mmap(nullptr, f.size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        status = Status::error("cannot map input " + path + ": " + std::strerror(errno));
        return nullptr;
      }
      ::madvise(p, f.size, MADV_SEQUENTIAL);
      f.data = static_cast<const char*>(p);
    }
    ::close(fd);
    source->files_.push_back(f);
  }
  status = Status::ok();
  return source;
}

NdjsonSource::~NdjsonSource() {
  for (auto& f : files_) {
    if (f.data != nullptr) ::munmap(const_cast<char*>(f.data), f.size);
  }
}

std::size_t NdjsonSource::total_bytes() const {
  std::size_t n = 0;
  for (const auto& f : files_) n += f.size;
  return n;
}

Status NdjsonSource::poll(RecordBatch& batch, std::size_t max_records, Millis) {
  batch.records.clear();
  batch.end_of_input = false;
  while (batch.records.size() < max_records && file_ < files_.size()) {
    const MappedFile& f = files_[file_];
    if (pos_ >= f.size) {
      ++file_;
      pos_ = 0;
      line_ = 0;
      continue;
    }
    const char* start = f.data + pos_;
    const void* nl = std::memchr(start, '\n', f.size - pos_);
    std::size_t len = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - start)
                         : f.size - pos_;
    pos_ += len + (nl ? 1 : 0);
    consumed_bytes_ += len + (nl ? 1 : 0);
    ++line_;
    std::string_view value(start, len);
    if (!value.empty() && value.back() == '\r') value.remove_suffix(1);
    if (value.find_first_not_of(" \t") == std::string_view::npos) continue;  // blank line
    RecordView r;
    r.partition = Partition{static_cast<std::int32_t>(file_)};
    r.offset = Offset{line_};
    r.value = value;
    batch.records.push_back(r);
  }
  batch.end_of_input = file_ >= files_.size();
  return Status::ok();
}

std::unique_ptr<NdjsonSink> NdjsonSink::open(const std::string& path, Status& status) {
  std::unique_ptr<NdjsonSink> sink(new NdjsonSink());
  sink->file_ = std::fopen(path.c_str(), "wb");
  if (sink->file_ == nullptr) {
    status = Status::error("cannot create output " + path + ": " + std::strerror(errno));
    return nullptr;
  }
  sink->path_ = path;
  sink->buffer_.reserve(kSinkBufferBytes + 4096);
  status = Status::ok();
  return sink;
}

NdjsonSink::~NdjsonSink() {
  if (file_ != nullptr) {
    (void)flush(Millis{0});
    std::fclose(file_);
  }
}

Status NdjsonSink::produce(std::string_view, std::string_view, std::string_view value) {
  buffer_.append(value);
  buffer_.push_back('\n');
  if (buffer_.size() >= kSinkBufferBytes) return flush(Millis{0});
  return Status::ok();
}

Status NdjsonSink::flush(Millis) {
  if (!buffer_.empty()) {
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
      return Status::error("writing " + path_ + ": " + std::strerror(errno));
    }
    buffer_.clear();
  }
  if (std::fflush(file_) != 0)
    return Status::error("writing " + path_ + ": " + std::strerror(errno));
  return Status::ok();
}

}  // namespace mozaiek
