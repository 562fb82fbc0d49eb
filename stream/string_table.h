// A hash table from string keys to values for hot lookups among many long
// keys (subject keys are "person:" + 64 hex digits).
//
// Open addressing with linear probing over {hash, node} slots, power-of-two
// size, at most half full. A lookup reads the slot array, then only the node
// whose full 64-bit hash matches; std::unordered_map reads a bucket, the
// node before, the node and its key, a cache miss each when the table is far
// bigger than the CPU cache. Nodes are allocated one by one, so pointers to
// them stay valid until erased.
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mozaiek {

template <class V>
class StringTable {
 public:
  struct Node {
    std::string key;
    V value{};
  };

  static std::uint64_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  Node* find(std::string_view key) const { return find(key, hash(key)); }
  Node* find(std::string_view key, std::uint64_t h) const {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (!slot.node) return nullptr;
      if (slot.hash == h && slot.node->key == key) return slot.node.get();
    }
  }

  // Adds a node for a key that is not present (check with find first). Its
  // value is V{}, or, for a node recycled by recycle() or recycle_all(),
  // whatever that node held: the caller overwrites it.
  Node& insert(std::string_view key, std::uint64_t h) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    std::size_t i = h & mask_;
    while (slots_[i].node) i = (i + 1) & mask_;
    slots_[i].hash = h;
    if (spare_.empty()) {
      slots_[i].node = std::make_unique<Node>();
    } else {
      slots_[i].node = std::move(spare_.back());
      spare_.pop_back();
    }
    slots_[i].node->key.assign(key);
    ++size_;
    return *slots_[i].node;
  }
  Node& insert(std::string_view key) { return insert(key, hash(key)); }

  // Removes and frees the node; pointers to it dangle afterwards.
  void erase(Node* node) { take(node); }

  // Removes the node but keeps it, with its strings' and vectors' capacity,
  // for a later insert(), which hands it out holding its old value. Pointers
  // to it must not be used until then.
  void recycle(Node* node) {
    if (auto kept = take(node)) spare_.push_back(std::move(kept));
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Removes every node but keeps them, with their strings' capacity, for
  // later inserts: a write buffer emptied on every flush then stops
  // allocating once it has seen its largest batch.
  void recycle_all() {
    for (auto& slot : slots_) {
      if (slot.node) spare_.push_back(std::move(slot.node));
    }
    size_ = 0;
  }

  // Visits every node in table order; f must not insert or erase.
  template <class F>
  void for_each(F&& f) {
    for (auto& slot : slots_) {
      if (slot.node) f(*slot.node);
    }
  }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& slot : slots_) {
      if (slot.node) f(static_cast<const Node&>(*slot.node));
    }
  }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::unique_ptr<Node> node;  // empty slot when null
  };

  // Unlinks the node from its slot and returns it; null if not in the table.
  std::unique_ptr<Node> take(Node* node) {
    if (node == nullptr || slots_.empty()) return nullptr;
    std::size_t i = hash(node->key) & mask_;
    while (slots_[i].node.get() != node) {
      if (!slots_[i].node) return nullptr;  // not in this table
      i = (i + 1) & mask_;
    }
    std::unique_ptr<Node> taken = std::move(slots_[i].node);
    --size_;
    // Backward-shift deletion: pull later members of the probe run into the
    // hole unless their home slot lies cyclically in (hole, j].
    for (std::size_t j = (i + 1) & mask_; slots_[j].node; j = (j + 1) & mask_) {
      const std::size_t home = slots_[j].hash & mask_;
      const bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    return taken;
  }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_ = std::vector<Slot>(old.empty() ? 64 : old.size() * 2);
    mask_ = slots_.size() - 1;
    for (auto& slot : old) {
      if (!slot.node) continue;
      std::size_t i = slot.hash & mask_;
      while (slots_[i].node) i = (i + 1) & mask_;
      slots_[i] = std::move(slot);
    }
  }

  std::vector<Slot> slots_;
  std::vector<std::unique_ptr<Node>> spare_;  // recycled nodes
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mozaiek
