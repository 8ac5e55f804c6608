#include "kafka/consumer.h"

namespace lakelog::kafka {

Result<rd_kafka_t*> NewConsumer(const std::map<std::string, std::string>& properties,
                                const std::map<std::string, std::string>& forced, void* opaque,
                                void (*rebalance_cb)(rd_kafka_t*, rd_kafka_resp_err_t,
                                                     rd_kafka_topic_partition_list_t*, void*)) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::map<std::string, std::string> settings = properties;
  if (settings.count("queued.max.messages.kbytes") == 0) {
    settings["queued.max.messages.kbytes"] = "65536";  // bounded prefetch memory
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
