// What one record costs on its way through the embedded cluster: produced
// through KafkaSink (the service's producer settings: idempotent, LZ4,
// batches) and consumed through KafkaSource (a consumer group), with the
// mock broker, both clients and their threads in the same process. The
// figure is CPU time of the whole process per record, the unit the
// end-to-end bench also reports.
//
// The service moves every signal through Kafka several times: the signal
// itself, one internal record per subject, the state changes to the
// changelog, and alerts and notices; this is the floor under each of them.
//
//   build/mozaiek_microbench --benchmark_filter=EmbeddedCluster
//
// Arguments: value size in bytes (325 is the synthetic signals' mean, 150
// an internal record's).
#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "connectors/kafka/embedded_cluster.h"
#include "connectors/kafka/kafka_settings.h"
#include "connectors/kafka/kafka_sink.h"
#include "connectors/kafka/kafka_source.h"

namespace mozaiek {
namespace {

// Records per round: produced, flushed, then consumed, so the mock
// cluster's bounded in-memory log never drops unread records.
constexpr std::size_t kRound = 10'000;

void BM_EmbeddedClusterProduceConsume(benchmark::State& bs) {
  const auto value_size = static_cast<std::size_t>(bs.range(0));
  Status s = Status::ok();
  auto cluster = EmbeddedCluster::start(1, s);
  if (!cluster) {
    bs.SkipWithError(s.message().c_str());
    return;
  }
  const std::string topic = "bench.records";
  if (Status t = cluster->create_topic(topic, 4); !t) {
    bs.SkipWithError(t.message().c_str());
    return;
  }
  KafkaSettings kafka;
  kafka.brokers = cluster->bootstrap_servers();
  auto sink = KafkaSink::create(kafka, s);
  auto source = sink ? KafkaSource::create(kafka, "bench-consumer", {topic}, s) : nullptr;
  if (!sink || !source) {
    bs.SkipWithError(s.message().c_str());
    return;
  }
  // JSON-like bytes, so LZ4 compresses about as much as on real records.
  std::string value;
  while (value.size() < value_size) value += R"({"signal_id":"s-000000","indicator":"x"},)";
  value.resize(value_size);
  std::string key = "person:0000000000000000";
  RecordBatch batch;
  std::uint64_t consumed = 0;
  std::uint64_t produced = 0;
  for (auto _ : bs) {
    for (std::size_t i = 0; i < kRound; ++i) {
      const std::uint64_t n = produced++;
      for (std::size_t d = 0; d < 8; ++d) {
        key[key.size() - 1 - d] = static_cast<char>('0' + (n >> (3 * d)) % 8);
        value[12 + d] = key[key.size() - 1 - d];
      }
      if (Status p = sink->produce(topic, key, value); !p) {
        bs.SkipWithError(p.message().c_str());
        return;
      }
    }
    if (Status f = sink->flush(seconds(60)); !f) {
      bs.SkipWithError(f.message().c_str());
      return;
    }
    while (consumed < produced) {
      if (Status p = source->poll(batch, 20000, Millis{200}); !p) {
        bs.SkipWithError(p.message().c_str());
        return;
      }
      consumed += batch.records.size();
    }
    (void)source->commit();
  }
  bs.SetItemsProcessed(static_cast<std::int64_t>(produced));
  bs.SetBytesProcessed(static_cast<std::int64_t>(produced * value_size));
  source.reset();
  sink.reset();
}
BENCHMARK(BM_EmbeddedClusterProduceConsume)
    ->Arg(150)
    ->Arg(325)
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0);

}  // namespace
}  // namespace mozaiek
