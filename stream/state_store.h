// Key-value state behind the operators. Implementations: in memory (tests,
// replay without --state-dir) and RocksDB (service, bench). Writes are
// buffered and become durable together on flush(), right before the
// source's offsets are committed.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "stream/status.h"

namespace mozaiek {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Returns true and fills value if the key exists.
  virtual bool get(std::string_view key, std::string& value) = 0;
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void erase(std::string_view key) = 0;
  // Visits every key starting with prefix, in key order. Return false to stop.
  virtual void scan(std::string_view prefix,
                    const std::function<bool(std::string_view, std::string_view)>& visit) = 0;
  virtual Status flush() = 0;
  virtual std::size_t approximate_entries() = 0;
};

std::unique_ptr<StateStore> make_memory_store();

// Stands in for a store that could not be opened or restored: keeps writes
// in memory so processing continues, and fails every flush() with `error`,
// so the task never commits offsets for state it could not persist.
std::unique_ptr<StateStore> make_failed_store(Status error);

// Opens named stores ("convergence-p3"); RocksDB opens column families, the
// memory factory fresh maps.
class StateStoreFactory {
 public:
  virtual ~StateStoreFactory() = default;
  virtual std::unique_ptr<StateStore> open(std::string_view name) = 0;

  // Opens a store whose every change the caller also keeps elsewhere (a
  // changelog) and can replay. Such a store may skip its own write-ahead
  // log, so a crash may lose its latest flushes; but among all stores opened
  // this way from one factory, what survives a crash is always the state
  // after some prefix of their flush() calls, in the order they were made.
  // A progress mark flushed after the data it describes (a checkpoint) thus
  // never survives without that data. By default the same as open().
  virtual std::unique_ptr<StateStore> open_rebuildable(std::string_view name) { return open(name); }
};

std::unique_ptr<StateStoreFactory> make_memory_store_factory();

}  // namespace mozaiek
