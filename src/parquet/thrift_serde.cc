#include "parquet/thrift_serde.h"

#include <exception>
#include <limits>
#include <memory>

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/transport/TBufferTransports.h>

namespace lakelog::parquet {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TCompactProtocolT;
using apache::thrift::transport::TMemoryBuffer;

Status SerializeThrift(const apache::thrift::TBase& value, std::string* out) {
  try {
    auto buffer = std::make_shared<TMemoryBuffer>();
    TCompactProtocolT<TMemoryBuffer> protocol(buffer);
    value.write(&protocol);
    uint8_t* bytes = nullptr;
    uint32_t size = 0;
    buffer->getBuffer(&bytes, &size);
    out->append(reinterpret_cast<const char*>(bytes), size);
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("thrift serialization failed: ") + e.what());
  }
}

Status DeserializeThrift(const uint8_t* data, size_t size, apache::thrift::TBase* value,
                         size_t* consumed) {
  if (size >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::Corruption("thrift struct larger than 2 GiB");
  }
  try {
    auto config = std::make_shared<TConfiguration>(static_cast<int>(size) + 1);
    // OBSERVE never writes through the pointer; the cast only satisfies the Thrift signature.
    auto buffer = std::make_shared<TMemoryBuffer>(const_cast<uint8_t*>(data),
                                                  static_cast<uint32_t>(size),
                                                  TMemoryBuffer::OBSERVE, config);
    TCompactProtocolT<TMemoryBuffer> protocol(buffer, kMaxThriftStringBytes,
                                              kMaxThriftContainerSize);
    value->read(&protocol);
    *consumed = size - buffer->available_read();
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("invalid thrift metadata: ") + e.what());
  }
}

}  // namespace lakelog::parquet
