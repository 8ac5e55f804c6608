// What the Kafka consumers of src/kafka share: a consumer built from the user's librdkafka
// properties with ours on top, and an owning partition list.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>

#include "lakelog/status.h"

namespace lakelog::kafka {

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
};
using PartitionList = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

// A consumer whose queue is the one rd_kafka_consumer_poll() serves. `properties` are the
// user's (SASL, TLS, ...); every key of `forced` wins over them; unless the user set them, the
// fetch sizes suit reading in bulk and the prefetch is bounded (128 MiB; consumer.cc). `opaque` and
// `rebalance_cb` may be null. InvalidArgument naming a property librdkafka refuses.
Result<rd_kafka_t*> NewConsumer(const std::map<std::string, std::string>& properties,
                                const std::map<std::string, std::string>& forced, void* opaque,
                                void (*rebalance_cb)(rd_kafka_t*, rd_kafka_resp_err_t,
                                                     rd_kafka_topic_partition_list_t*, void*));

}  // namespace lakelog::kafka
