// What writing new keys to a state store costs, with the options the service
// uses: N distinct keys shaped like the scorer's ("person:" + 64 hex, from a
// pseudonym) with 160-byte values are put into one store and flushed every
// 100,000 keys, as a commit would. Most subjects in the bench traffic are
// new, so each signal costs about 1.15 of these writes on top of parsing
// and scoring. The argument selects the write-ahead log: 1 = with it (stores
// nothing else protects: replay, bench), 0 = without (changelogged stores in
// the service).
//
//   build/mozaiek_microbench --benchmark_filter=StateStore
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "stream/rocksdb_state.h"

namespace mozaiek {
namespace {

constexpr std::size_t kFlushEvery = 100'000;

void BM_StateStoreNewKeys(benchmark::State& bs) {
  const bool write_ahead = bs.range(0) != 0;
  const std::string dir = "/tmp/mozaiek-state-bench-" + std::to_string(::getpid());
  Status s = Status::ok();
  auto db = RocksStateDb::open(dir, s);
  if (!db) {
    bs.SkipWithError(s.message().c_str());
    return;
  }
  std::unique_ptr<StateStore> store;
  if (Status o = db->store("convergence-p0", store,
                           write_ahead ? RocksStateDb::Logging::kWriteAhead
                                       : RocksStateDb::Logging::kNone);
      !o) {
    bs.SkipWithError(o.message().c_str());
    return;
  }
  std::mt19937_64 rng(7);
  std::string key = "person:" + std::string(64, '0');
  const std::string value(160, 'v');
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t since_flush = 0;
  std::size_t written = 0;
  for (auto _ : bs) {
    for (std::size_t i = 7; i < key.size(); i += 16) {
      std::uint64_t r = rng();
      for (std::size_t j = 0; j < 16; ++j, r >>= 4) key[i + j] = kHex[r & 15];
    }
    store->put(key, value);
    ++written;
    if (++since_flush == kFlushEvery) {
      since_flush = 0;
      if (Status f = store->flush(); !f) {
        bs.SkipWithError(f.message().c_str());
        break;
      }
    }
  }
  (void)store->flush();
  bs.SetItemsProcessed(static_cast<std::int64_t>(written));
  store.reset();
  db.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
BENCHMARK(BM_StateStoreNewKeys)->Arg(1)->Arg(0)->Iterations(1'000'000);

}  // namespace
}  // namespace mozaiek
