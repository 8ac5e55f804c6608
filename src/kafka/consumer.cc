#include "kafka/consumer.h"

namespace lakelog::kafka {

Result<rd_kafka_t*> NewConsumer(const std::map<std::string, std::string>& properties,
                                const std::map<std::string, std::string>& forced, void* opaque,
                                void (*rebalance_cb)(rd_kafka_t*, rd_kafka_resp_err_t,
                                                     rd_kafka_topic_partition_list_t*, void*)) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Defaults for a consumer that reads a topic in bulk (each one kept when given). librdkafka's
  // own (1 MiB per partition per fetch, refetching below 100,000 queued messages) leave a
  // consumer that parses ~300-byte events waiting on the broker: with them kafka-ingest drained
  // 2M events in 13 s, with these in 7 s (docs/BENCHMARKS.md). The prefetch stays bounded.
  std::map<std::string, std::string> settings = properties;
  for (const auto& [key, value] : std::map<std::string, std::string>{
           {"queued.max.messages.kbytes", "131072"},  // prefetch memory: at most 128 MiB
           {"queued.min.messages", "1000000"},        // fetch again while below 1M messages
           {"max.partition.fetch.bytes", "8388608"},  // 8 MiB per partition per fetch
           {"fetch.max.bytes", "67108864"},           // 64 MiB per fetch response
       }) {
    settings.emplace(key, value);
  }
  for (const auto& [key, value] : forced) settings[key] = value;
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka property " + key + "=" + value + ": " + errstr);
    }
  }
  if (opaque != nullptr) rd_kafka_conf_set_opaque(conf, opaque);
  if (rebalance_cb != nullptr) rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
  rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (consumer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(std::string("kafka consumer: ") + errstr);
  }
  rd_kafka_poll_set_consumer(consumer);
  return consumer;
}

}  // namespace lakelog::kafka
