#include "parquet/thrift_serde.h"

#include <thrift/TConfiguration.h>
#include <thrift/protocol/TCompactProtocol.h>
#include <thrift/protocol/TProtocolDecorator.h>
#include <thrift/transport/TBufferTransports.h>

#include <exception>
#include <limits>
#include <memory>

namespace lakelog::parquet {

using apache::thrift::TConfiguration;
using apache::thrift::protocol::TCompactProtocolT;
using apache::thrift::protocol::TProtocolException;
using apache::thrift::protocol::TType;
using apache::thrift::transport::TMemoryBuffer;

namespace {

// Thrift checks a container's declared size against the bytes left only by the element type's
// minimum encoded size, which it takes as 0 for a struct: a 37-byte footer declaring a list of
// four million ColumnChunks made the generated code construct them all before the data ran out
// (10 s under ASan; found by parquet_reader_fuzz). Every element, an empty struct included (its
// stop byte), takes at least one byte, and a map entry two, so no container can hold more
// elements than there are bytes left.
class BoundedContainers final : public apache::thrift::protocol::TProtocolDecorator {
 public:
  BoundedContainers(std::shared_ptr<apache::thrift::protocol::TProtocol> protocol,
                    const TMemoryBuffer* buffer)
      : TProtocolDecorator(std::move(protocol)), buffer_(buffer) {}

  uint32_t readMapBegin_virt(TType& key, TType& value, uint32_t& size) override {
    const uint32_t read = TProtocolDecorator::readMapBegin_virt(key, value, size);
    Check(uint64_t{size} * 2);
    return read;
  }
  uint32_t readListBegin_virt(TType& element, uint32_t& size) override {
    const uint32_t read = TProtocolDecorator::readListBegin_virt(element, size);
    Check(size);
    return read;
  }
  uint32_t readSetBegin_virt(TType& element, uint32_t& size) override {
    const uint32_t read = TProtocolDecorator::readSetBegin_virt(element, size);
    Check(size);
    return read;
  }

 private:
  void Check(uint64_t min_bytes) const {
    if (min_bytes > buffer_->available_read()) {
      throw TProtocolException(TProtocolException::SIZE_LIMIT,
                               "a container declares more elements than bytes remain");
    }
  }
  const TMemoryBuffer* buffer_;
};

}  // namespace

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
    auto buffer = std::make_shared<TMemoryBuffer>(
        const_cast<uint8_t*>(data), static_cast<uint32_t>(size), TMemoryBuffer::OBSERVE, config);
    auto compact = std::make_shared<TCompactProtocolT<TMemoryBuffer>>(buffer, kMaxThriftStringBytes,
                                                                      kMaxThriftContainerSize);
    BoundedContainers protocol(compact, buffer.get());
    value->read(&protocol);
    *consumed = size - buffer->available_read();
    return Status::OK();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("invalid thrift metadata: ") + e.what());
  }
}

}  // namespace lakelog::parquet
