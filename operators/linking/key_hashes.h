// KeyHashes: a set of 64-bit key hashes, for "might this key be in the
// store?" before paying for a store lookup. A hash collision only costs a
// lookup that finds nothing; a key whose hash is absent is certainly not
// there, as long as the owner inserts every key it writes.
//
// Open addressing with linear probing in one flat array, at most half full
// (no node per key, unlike std::unordered_set). Zero marks an empty slot, so
// a hash of zero is stored as one. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mozaiek::linking {

class KeyHashes {
 public:
  bool contains(std::uint64_t h) const {
    if (slots_.empty()) return false;
    h = nonzero(h);
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == h) return true;
      if (slots_[i] == 0) return false;
    }
  }

  void insert(std::uint64_t h) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    h = nonzero(h);
    std::size_t i = h & mask_;
    while (slots_[i] != 0) {
      if (slots_[i] == h) return;
      i = (i + 1) & mask_;
    }
    slots_[i] = h;
    ++size_;
  }

  void clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    mask_ = 0;
    size_ = 0;
  }

  std::size_t size() const { return size_; }

 private:
  static std::uint64_t nonzero(std::uint64_t h) { return h == 0 ? 1 : h; }

  void grow() {
    std::vector<std::uint64_t> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    mask_ = slots_.size() - 1;
    size_ = 0;
    for (std::uint64_t h : old) {
      if (h != 0) insert(h);
    }
  }

  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace mozaiek::linking
