// RocksDB-backed operator state: one database per process (one directory),
// one column family per named store ("convergence-p3"), created on demand.
//
// Lifecycle: open() once at startup; store() per partition when it is
// assigned; the returned stores must be destroyed before the RocksStateDb.
// Thread: the database object may be shared by task threads (store(),
// drop_store() and store_names() lock); each store is owned by one task
// thread and is not thread-safe.
//
// A store buffers put()/erase() in memory (get() and scan() see them) and
// writes them to RocksDB as one atomic WriteBatch in flush(), which the
// task calls right before committing its source offsets.
//
// Durability: a store opened with Logging::kWriteAhead survives a process
// crash from the moment flush() returns (RocksDB's write-ahead log). A store
// opened with Logging::kNone (changelogged stores: the changelog is their
// log) skips that log, so a crash loses what RocksDB had not yet written to
// disk. RocksDB always writes the memtables of all stores to disk together
// (atomic_flush), and each flush() is one write, so after a crash the
// kNone stores together hold exactly the state after some prefix of their
// flushes: a checkpoint written after its data never survives without it.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "stream/state_store.h"
#include "stream/status.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace mozaiek {

struct RocksStateOptions {
  // fsync the WAL on every flush: survives power loss, costs a disk sync per
  // commit. Off: survives a process crash (the WAL is written, not synced).
  // Stores opened with Logging::kNone have no WAL to sync.
  bool sync_writes = false;
  std::size_t block_cache_bytes = std::size_t{64} << 20;   // shared by all stores
  std::size_t write_buffer_bytes = std::size_t{32} << 20;  // per store (memtable)
};

class RocksStateDb {
 public:
  // Opens or creates the database at dir (created if missing), with every
  // column family found there. Returns nullptr and sets status on failure.
  static std::unique_ptr<RocksStateDb> open(const std::string& dir, Status& status,
                                            RocksStateOptions options = {});
  ~RocksStateDb();
  RocksStateDb(const RocksStateDb&) = delete;
  RocksStateDb& operator=(const RocksStateDb&) = delete;

  enum class Logging {
    kWriteAhead,  // every flush() is in RocksDB's write-ahead log
    kNone,        // no write-ahead log: the caller can replay lost flushes
  };

  // Opens the named store, creating its column family when new.
  [[nodiscard]] Status store(std::string_view name, std::unique_ptr<StateStore>& out,
                             Logging logging = Logging::kWriteAhead);
  // As above for callers that cannot handle an error here (StateStoreFactory):
  // on failure the store works in memory and reports the error from flush(),
  // so the task fails before committing anything it could not persist.
  std::unique_ptr<StateStore> store(std::string_view name, Logging logging = Logging::kWriteAhead);

  // Deletes a store and its data. Fails while a store object for it is open.
  [[nodiscard]] Status drop_store(std::string_view name);

  std::vector<std::string> store_names() const;
  const std::string& dir() const { return dir_; }

  // A factory handing out store(name), and store(name, Logging::kNone) for
  // open_rebuildable(name); borrows *this, which must outlive it.
  std::unique_ptr<StateStoreFactory> factory();

 private:
  class Store;
  struct Family {
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    int open_stores = 0;
  };

  RocksStateDb(std::string dir, RocksStateOptions options);
  void release(std::string_view name);

  std::string dir_;
  RocksStateOptions options_;
  std::unique_ptr<rocksdb::ColumnFamilyOptions> cf_options_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mu_;
  std::map<std::string, Family, std::less<>> families_;  // guarded by mu_
};

}  // namespace mozaiek
