// TopicTailReader: follows a few topics on a thread of its own and hands
// every record to the topic's callback.
//
// One consumer that assigns partitions directly: no consumer group, nothing
// committed, so every reader (and every restart) reads the same records.
// Each topic starts either at its beginning or at the newest `tail` records
// of each partition, then is followed live. For views kept in memory from
// topics, such as what an HTTP API shows.
//
// Lifecycle: start() returns once the partitions are assigned; stop() (also
// the destructor) ends the thread. Callbacks run on the reader's thread.
// Partitions added to the topics after start() are not read until the next
// start.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connectors/kafka/kafka_settings.h"
#include "stream/record.h"
#include "stream/status.h"

namespace mozaiek {

class TopicTailReader {
 public:
  struct Topic {
    std::string name;
    // Start at the newest `tail` records of each partition; from the
    // beginning when empty.
    std::optional<std::size_t> tail;
    // Called for each record; the view is valid during the call only.
    std::function<void(const RecordView&)> deliver;
  };
  // Called on the reader's thread when the consumer fails for good; the
  // reader reads nothing more.
  using OnFatal = std::function<void(Status)>;

  // `name` says who reads, in errors and logs; `group_id` is required by
  // librdkafka but never joins a group.
  static std::unique_ptr<TopicTailReader> start(const KafkaSettings& settings, std::string name,
                                                std::string group_id, std::vector<Topic> topics,
                                                OnFatal on_fatal, Status& status);
  ~TopicTailReader();
  TopicTailReader(const TopicTailReader&) = delete;
  TopicTailReader& operator=(const TopicTailReader&) = delete;

  void stop();

 private:
  struct Impl;
  explicit TopicTailReader(std::unique_ptr<Impl> impl);
  void run();

  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace mozaiek
