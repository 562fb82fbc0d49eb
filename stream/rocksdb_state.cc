#include "stream/rocksdb_state.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <utility>

#include "stream/string_table.h"

namespace mozaiek {
namespace {

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

Status from_rocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::ok();
  return Status::error(std::string(what) + ": " + s.ToString());
}

rocksdb::CompressionType pick_compression() {
  // LZ4 is cheap enough for the write path; fall back when the library lacks it.
  const auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kLZ4Compression) != supported.end()) {
    return rocksdb::kLZ4Compression;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

// One column family seen through a write buffer. The buffer holds the latest
// pending value (or erasure) per key, so repeated writes to a hot key between
// two flushes cost one RocksDB write, and flush() writes the keys in order,
// which makes the memtable inserts (a skiplist) markedly cheaper.
class RocksStateDb::Store final : public StateStore {
 public:
  Store(RocksStateDb& owner, std::string name, rocksdb::ColumnFamilyHandle* cf, Logging logging)
      : owner_(owner), name_(std::move(name)), cf_(cf) {
    if (logging == Logging::kNone) {
      write_options_.disableWAL = true;  // RocksDB refuses sync without a WAL
    } else {
      write_options_.sync = owner.options_.sync_writes;
    }
  }
  ~Store() override { owner_.release(name_); }

  bool get(std::string_view key, std::string& value) override {
    if (const auto* p = pending_.find(key)) {
      if (p->value.erased) return false;
      value.assign(p->value.value);
      return true;
    }
    pinned_.Reset();
    rocksdb::Status s = owner_.db_->Get(read_options_, cf_, slice(key), &pinned_);
    if (s.IsNotFound()) return false;
    if (!s.ok()) {
      // Reported by the next flush(), before any offset is committed.
      if (error_.is_ok()) error_ = from_rocks(s, "reading state store " + name_);
      return false;
    }
    value.assign(pinned_.data(), pinned_.size());
    pinned_.Reset();
    return true;
  }

  void put(std::string_view key, std::string_view value) override {
    Pending& p = pending(key);
    p.value.assign(value);
    p.erased = false;
  }

  void erase(std::string_view key) override {
    Pending& p = pending(key);
    p.value.clear();
    p.erased = true;
  }

  void scan(std::string_view prefix,
            const std::function<bool(std::string_view, std::string_view)>& visit) override {
    // Pending writes with the prefix, in key order, merged with the database.
    std::vector<std::pair<std::string_view, const Pending*>> pending;
    pending_.for_each([&](const PendingTable::Node& n) {
      if (std::string_view(n.key).substr(0, prefix.size()) == prefix) {
        pending.emplace_back(n.key, &n.value);
      }
    });
    std::sort(pending.begin(), pending.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    auto next_pending = pending.begin();

    std::unique_ptr<rocksdb::Iterator> it(owner_.db_->NewIterator(read_options_, cf_));
    it->Seek(slice(prefix));
    bool go_on = true;
    while (go_on) {
      const bool db_valid = it->Valid() && view(it->key()).substr(0, prefix.size()) == prefix;
      const bool pending_valid = next_pending != pending.end();
      if (!db_valid && !pending_valid) break;
      if (pending_valid && (!db_valid || next_pending->first <= view(it->key()))) {
        if (db_valid && next_pending->first == view(it->key())) it->Next();  // shadowed
        const Pending& p = *next_pending->second;
        if (!p.erased) go_on = visit(next_pending->first, p.value);
        ++next_pending;
      } else {
        go_on = visit(view(it->key()), view(it->value()));
        it->Next();
      }
    }
    if (!it->status().ok() && error_.is_ok()) {
      error_ = from_rocks(it->status(), "scanning state store " + name_);
    }
  }

  Status flush() override {
    if (!error_.is_ok()) return std::exchange(error_, Status::ok());
    if (pending_.empty()) return Status::ok();
    sorted_.clear();
    pending_.for_each([&](const PendingTable::Node& n) { sorted_.push_back(&n); });
    std::sort(sorted_.begin(), sorted_.end(),
              [](const auto* a, const auto* b) { return a->key < b->key; });
    batch_.Clear();
    for (const PendingTable::Node* n : sorted_) {
      rocksdb::Status s = n->value.erased ? batch_.Delete(cf_, slice(n->key))
                                          : batch_.Put(cf_, slice(n->key), slice(n->value.value));
      if (!s.ok()) return from_rocks(s, "batching writes to state store " + name_);
    }
    rocksdb::Status s = owner_.db_->Write(write_options_, &batch_);
    if (!s.ok()) return from_rocks(s, "writing state store " + name_);
    pending_.recycle_all();
    batch_.Clear();
    return Status::ok();
  }

  std::size_t approximate_entries() override {
    std::uint64_t n = 0;
    if (!owner_.db_->GetIntProperty(cf_, "rocksdb.estimate-num-keys", &n)) n = 0;
    return static_cast<std::size_t>(n) + pending_.size();
  }

 private:
  struct Pending {
    std::string value;
    bool erased = false;
  };
  using PendingTable = StringTable<Pending>;

  Pending& pending(std::string_view key) {
    const std::uint64_t h = PendingTable::hash(key);
    auto* n = pending_.find(key, h);
    if (n == nullptr) n = &pending_.insert(key, h);
    return n->value;
  }

  RocksStateDb& owner_;
  std::string name_;
  rocksdb::ColumnFamilyHandle* cf_;
  rocksdb::ReadOptions read_options_;
  rocksdb::WriteOptions write_options_;
  PendingTable pending_;
  std::vector<const PendingTable::Node*> sorted_;  // scratch for flush()
  rocksdb::WriteBatch batch_;
  rocksdb::PinnableSlice pinned_;
  Status error_ = Status::ok();
};

namespace {

class RocksFactory final : public StateStoreFactory {
 public:
  explicit RocksFactory(RocksStateDb& db) : db_(db) {}
  std::unique_ptr<StateStore> open(std::string_view name) override { return db_.store(name); }
  std::unique_ptr<StateStore> open_rebuildable(std::string_view name) override {
    return db_.store(name, RocksStateDb::Logging::kNone);
  }

 private:
  RocksStateDb& db_;
};

}  // namespace

RocksStateDb::RocksStateDb(std::string dir, RocksStateOptions options)
    : dir_(std::move(dir)), options_(options) {}

RocksStateDb::~RocksStateDb() {
  if (!db_) return;
  // Errors while closing cannot be handled by anyone any more: waived.
  for (auto& [name, family] : families_) {
    db_->DestroyColumnFamilyHandle(family.handle).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

std::unique_ptr<RocksStateDb> RocksStateDb::open(const std::string& dir, Status& status,
                                                 RocksStateOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    status = Status::error("creating state directory " + dir + ": " + ec.message());
    return nullptr;
  }
  std::unique_ptr<RocksStateDb> db(new RocksStateDb(dir, options));

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  db->cf_options_ = std::make_unique<rocksdb::ColumnFamilyOptions>();
  auto& cf = *db->cf_options_;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Level-0 and level-1 files are rewritten by the next compaction soon
  // after they are written: compressing them costs background CPU for
  // nothing. Only the longer-lived lower levels are compressed.
  cf.compression = pick_compression();
  cf.compression_per_level.assign(static_cast<std::size_t>(cf.num_levels), cf.compression);
  cf.compression_per_level[0] = rocksdb::kNoCompression;
  cf.compression_per_level[1] = rocksdb::kNoCompression;
  cf.write_buffer_size = options.write_buffer_bytes;
  // Most lookups are for subjects never seen before; a whole-key bloom filter
  // on the memtable answers those without walking the skiplist.
  cf.memtable_whole_key_filtering = true;
  cf.memtable_prefix_bloom_size_ratio = 0.1;
  // flush() writes keys in order; with a hint per first byte (one per kind of
  // key: "person:", "vehicle:", ...) each insert starts its skiplist search at
  // the previous key's position instead of at the top.
  cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  // Memtables of all column families reach disk together, cut between two
  // writes: what stores without a write-ahead log keep after a crash is a
  // consistent prefix of their writes (see Logging::kNone).
  db_options.atomic_flush = true;

  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, dir, &names);
  if (!listed.ok()) {
    // A fresh directory has no database yet; Open below reports real problems.
    listed.PermitUncheckedError();
    names = {rocksdb::kDefaultColumnFamilyName};
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.reserve(names.size());
  for (const auto& n : names) descriptors.emplace_back(n, cf);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
  if (!s.ok()) {
    status = from_rocks(s, "opening state directory " + dir);
    return nullptr;
  }
  db->db_.reset(raw);
  for (std::size_t i = 0; i < handles.size(); ++i) {
    db->families_.emplace(names[i], Family{handles[i], 0});
  }
  status = Status::ok();
  return db;
}

Status RocksStateDb::store(std::string_view name, std::unique_ptr<StateStore>& out,
                           Logging logging) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) {
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    rocksdb::Status s = db_->CreateColumnFamily(*cf_options_, std::string(name), &handle);
    if (!s.ok()) return from_rocks(s, "creating state store " + std::string(name));
    it = families_.emplace(std::string(name), Family{handle, 0}).first;
  }
  ++it->second.open_stores;
  out = std::make_unique<Store>(*this, it->first, it->second.handle, logging);
  return Status::ok();
}

std::unique_ptr<StateStore> RocksStateDb::store(std::string_view name, Logging logging) {
  std::unique_ptr<StateStore> out;
  Status s = store(name, out, logging);
  if (!s) return make_failed_store(std::move(s));
  return out;
}

void RocksStateDb::release(std::string_view name) {
  std::lock_guard lock(mu_);
  if (auto it = families_.find(name); it != families_.end()) --it->second.open_stores;
}

Status RocksStateDb::drop_store(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = families_.find(name);
  if (it == families_.end()) return Status::ok();
  if (name == rocksdb::kDefaultColumnFamilyName) {
    return Status::error("the default state store cannot be dropped");
  }
  if (it->second.open_stores > 0) {
    return Status::error("state store " + std::string(name) + " is still open");
  }
  rocksdb::Status s = db_->DropColumnFamily(it->second.handle);
  if (!s.ok()) return from_rocks(s, "dropping state store " + std::string(name));
  s = db_->DestroyColumnFamilyHandle(it->second.handle);
  families_.erase(it);
  return from_rocks(s, "releasing state store " + std::string(name));
}

std::vector<std::string> RocksStateDb::store_names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, family] : families_) {
    if (name != rocksdb::kDefaultColumnFamilyName) out.push_back(name);
  }
  return out;
}

std::unique_ptr<StateStoreFactory> RocksStateDb::factory() {
  return std::make_unique<RocksFactory>(*this);
}

}  // namespace mozaiek
