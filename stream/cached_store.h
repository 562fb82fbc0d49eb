// CachedStore: decoded values kept in memory over a StateStore, for the
// operators' per-partition state (convergence subjects, link entities,
// oversight entities).
//
//  - load() returns the value for a key from the cache, the store, or new;
//    one hash per lookup, and a key the store cannot hold (KnownKeys, filled
//    by a scan when the cache is made) skips the store lookup.
//  - mark_dirty() lists a changed value; write_dirty() writes the list (a
//    value the codec calls empty becomes a tombstone).
//  - Beyond max_cached values, a load() writes the dirty ones and drops the
//    least recently used eighth. Dropped nodes are kept, with their vectors'
//    capacity, for the next new keys: no allocation per record once warm.
//  - A stored value that does not decode is replaced by an empty one and
//    counted; never logged with its key (person keys are pseudonyms).
//  - erase() leaves a tombstone; expire() visits cached and stored values.
//
// Codec, the value's binary form (one per cache, may keep scratch):
//   void encode(const Value&, std::string& out);
//   bool decode(std::string_view in, Value& out, const Ctx&... ctx);
//   void reset(Value&);          // to empty, keeping capacity where it can
//   bool erases(const Value&);   // written as a tombstone when true
// Ctx: whatever load() and peek() pass on to decode (a rule's parameters).
//
// Lifecycle: made with the partition's state, after the store is opened
// and restored; nothing else may write to the store. Not thread-safe: owned
// by the partition's task thread.
#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stream/known_keys.h"
#include "stream/state_store.h"
#include "stream/string_table.h"

namespace mozaiek {

template <class Value, class Codec>
class CachedStore {
 public:
  struct Entry {
    Value value{};
    std::uint64_t last_used = 0;  // the cache's clock at the last load
    bool dirty = false;
  };
  using Table = StringTable<Entry>;
  using Node = typename Table::Node;

  static constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();

  // name: the log's label ("convergence"). Scans the keys under prefix, so
  // everything the store holds now (a restart, a restored changelog) is
  // known; codec_args make the codec.
  template <class... CodecArgs>
  CachedStore(StateStore& store, std::string_view name, std::size_t max_cached,
              std::string_view prefix, CodecArgs&&... codec_args)
      : store_(store),
        codec_(std::forward<CodecArgs>(codec_args)...),
        name_(name),
        max_cached_(std::max<std::size_t>(1, max_cached)) {
    store_.scan(prefix, [this](std::string_view k, std::string_view) {
      known_.add(Table::hash(k));
      return true;
    });
  }
  CachedStore(const CachedStore&) = delete;
  CachedStore& operator=(const CachedStore&) = delete;

  static std::uint64_t hash(std::string_view key) { return Table::hash(key); }

  // The concatenation of parts in a buffer kept for it ("person" ":" key);
  // valid until the next call.
  template <class... Parts>
  std::string_view make_key(const Parts&... parts) {
    key_.clear();
    (key_.append(parts), ...);
    return key_;
  }

  // The value for key: cached, read from the store, or new (reset). May
  // evict: a node from an earlier load() is valid until the next one only.
  template <class... Ctx>
  Node& load(std::string_view key, std::uint64_t h, const Ctx&... ctx) {
    ++tick_;
    if (Node* node = cache_.find(key, h)) {
      node->value.last_used = tick_;
      return *node;
    }
    if (cache_.size() >= max_cached_) evict();
    Node& node = cache_.insert(key, h);  // possibly a recycled node
    Entry& entry = node.value;
    codec_.reset(entry.value);
    entry.dirty = false;
    entry.last_used = tick_;
    if (known_.may_contain(h)) {
      read(node.key, entry.value, ctx...);
    } else {
      known_.add(h);  // it will be written once it changes
    }
    return node;
  }
  template <class... Ctx>
  Node& load(std::string_view key, const Ctx&... ctx) {
    return load(key, hash(key), ctx...);
  }

  // The value for key without caching it: the cached one, or one read from
  // the store into scratch; null when neither has it.
  template <class... Ctx>
  const Value* peek(std::string_view key, Value& scratch, const Ctx&... ctx) {
    const std::uint64_t h = hash(key);
    if (const Node* node = cache_.find(key, h)) return &node->value.value;
    if (!known_.may_contain(h)) return nullptr;
    return read(key, scratch, ctx...) ? &scratch : nullptr;
  }

  Node* find(std::string_view key) { return cache_.find(key); }

  // Whether the store or the cache may hold key (no false "no").
  bool may_contain(std::uint64_t h) const { return known_.may_contain(h); }

  void mark_dirty(Node& node) {
    if (node.value.dirty) return;
    node.value.dirty = true;
    dirty_.push_back(&node);
  }

  void write_dirty() {
    for (Node* node : dirty_) {
      node->value.dirty = false;
      if (codec_.erases(node->value.value)) {
        store_.erase(node->key);
      } else {
        codec_.encode(node->value.value, value_);
        store_.put(node->key, value_);
      }
    }
    dirty_.clear();
  }

  // Removes key from the cache and leaves a tombstone in the store (also
  // when it held nothing). Its fingerprint stays known: a harmless "maybe".
  void erase(std::string_view key) {
    if (Node* node = cache_.find(key)) {
      forget_dirty(*node);
      cache_.erase(node);
    }
    store_.erase(key);
  }

  // Decodes every value under prefix into the cache (clean), for an owner
  // that keeps all its entities in memory, and calls loaded(node) for each.
  // Undecodable ones are counted and stay in the store until written over.
  template <class F>
  void load_all(std::string_view prefix, F&& loaded) {
    store_.scan(prefix, [&](std::string_view k, std::string_view v) {
      const std::uint64_t h = hash(k);
      known_.add(h);
      if (cache_.find(k, h)) return true;
      Node& node = cache_.insert(k, h);
      codec_.reset(node.value.value);
      node.value.dirty = false;
      if (!codec_.decode(v, node.value.value)) {
        cache_.erase(&node);
        count_undecodable();
        return true;
      }
      loaded(node);
      return true;
    });
  }

  enum class Verdict { unchanged, changed, remove };

  // Expiry. Writes the dirty values, then asks cached(key, Value&) about
  // every cached value and stored(key, bytes, rewritten) about every stored
  // one not cached (changed: `rewritten` is its new form), and rebuilds the
  // known keys from what the store and cache hold. Scans the whole store.
  // Returns the values removed.
  template <class OnCached, class OnStored>
  std::size_t expire(OnCached&& cached, OnStored&& stored) {
    write_dirty();  // the scan must see every value; `dirty_` must be empty
    std::size_t removed = 0;
    doomed_.clear();
    cache_.for_each([&](Node& node) {
      switch (cached(std::string_view(node.key), node.value.value)) {
        case Verdict::remove: doomed_.push_back(&node); break;
        case Verdict::changed: mark_dirty(node); break;
        case Verdict::unchanged: break;
      }
    });
    for (Node* node : doomed_) {
      forget_dirty(*node);
      store_.erase(node->key);
      cache_.recycle(node);
      ++removed;
    }
    struct Update {
      std::string key;
      std::string value;
      bool erase;
    };
    std::vector<Update> updates;
    // Erased keys below stay known too: a false "maybe" is harmless.
    known_.clear();
    cache_.for_each([&](const Node& node) { known_.add(hash(node.key)); });
    std::string rewritten;
    store_.scan("", [&](std::string_view k, std::string_view v) {
      const std::uint64_t h = hash(k);
      known_.add(h);
      if (cache_.find(k, h)) return true;
      rewritten.clear();
      switch (stored(k, v, rewritten)) {
        case Verdict::remove: updates.push_back({std::string(k), {}, true}); break;
        case Verdict::changed: updates.push_back({std::string(k), rewritten, false}); break;
        case Verdict::unchanged: break;
      }
      return true;
    });
    for (const auto& u : updates) {
      if (u.erase) {
        store_.erase(u.key);
        ++removed;
      } else {
        store_.put(u.key, u.value);
      }
    }
    return removed;
  }

  template <class F>
  void for_each(F&& f) {
    cache_.for_each(std::forward<F>(f));
  }
  template <class F>
  void for_each(F&& f) const {
    cache_.for_each(std::forward<F>(f));
  }

  std::size_t size() const { return cache_.size(); }
  std::uint64_t undecodable() const { return undecodable_; }
  Codec& codec() { return codec_; }
  StateStore& store() { return store_; }

 private:
  // Reads key from the store into v; false if absent or undecodable (v is
  // then reset).
  template <class... Ctx>
  bool read(std::string_view key, Value& v, const Ctx&... ctx) {
    if (!store_.get(key, value_)) return false;
    if (codec_.decode(value_, v, ctx...)) return true;
    // Replaced rather than failing the partition forever.
    codec_.reset(v);
    count_undecodable();
    return false;
  }

  void count_undecodable() {
    ++undecodable_;
    spdlog::warn("{}: replacing an undecodable state entry ({} so far)", name_, undecodable_);
  }

  void forget_dirty(Node& node) {
    if (!node.value.dirty) return;
    dirty_.erase(std::find(dirty_.begin(), dirty_.end(), &node));
    node.value.dirty = false;
  }

  // Drops the least recently used eighth, after writing every dirty value
  // (so nothing is lost and `dirty_` points at no dropped node).
  void evict() {
    write_dirty();
    ticks_.clear();
    cache_.for_each([&](const Node& n) { ticks_.push_back(n.value.last_used); });
    if (ticks_.empty()) return;
    const std::size_t drop = std::max<std::size_t>(1, ticks_.size() / 8);
    std::nth_element(ticks_.begin(), ticks_.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                     ticks_.end());
    const std::uint64_t cutoff = ticks_[drop - 1];
    doomed_.clear();
    cache_.for_each([&](Node& n) {
      if (n.value.last_used <= cutoff) doomed_.push_back(&n);
    });
    for (Node* n : doomed_) cache_.recycle(n);
  }

  StateStore& store_;
  Codec codec_;
  std::string name_;
  std::size_t max_cached_;
  Table cache_;
  // Every key in the store or the cache (plus some erased ones).
  KnownKeys known_;
  std::vector<Node*> dirty_;  // changed since written to the store
  std::uint64_t tick_ = 0;
  std::uint64_t undecodable_ = 0;
  std::string key_;                   // make_key()'s buffer
  std::string value_;                 // scratch: an encoded value
  std::vector<std::uint64_t> ticks_;  // scratch for eviction
  std::vector<Node*> doomed_;         // scratch for eviction and expiry
};

}  // namespace mozaiek
