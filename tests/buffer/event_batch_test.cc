// Decoding into recycled LogEvents (EventBatch): every field is overwritten, storage is reused,
// and Drain into a batch accounts for events and bytes exactly as Drain into a vector does.
#include "buffer/event_batch.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

#include "buffer/pipeline_buffer.h"
#include "buffer/slot_codec.h"

namespace lakelog::buffer {
namespace {

// Encodes `f` and decodes it into *out.
void RoundTrip(const EventFields& f, int64_t ts, const DecodeDefaults& defaults, LogEvent* out,
               uint32_t repeat_count = 1) {
  std::vector<char> payload(EncodedSize(f));
  EventHeader h;
  Encode(f, TscClock::Stamp{ts, TscClock::kMicrosEpoch}, &h, payload.data());
  h.repeat_count = repeat_count;
  Decode(h, payload.data(), defaults, out);
}

void ExpectSameEvent(const LogEvent& a, const LogEvent& b) {
  EXPECT_EQ(a.pipeline, b.pipeline);
  EXPECT_EQ(a.ts_micros, b.ts_micros);
  EXPECT_EQ(a.level, b.level);
  EXPECT_EQ(a.stage, b.stage);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.message, b.message);
  EXPECT_EQ(a.run_id, b.run_id);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.attributes, b.attributes);
}

TEST(EventCodecTest, DecodeIntoARecycledEventOverwritesEveryField) {
  const Attribute many[] = {{"table", "warehouse.orders_daily"}, {"rows", "1200"}, {"k", "v"}};
  EventFields rich;
  rich.level = Level::kError;
  rich.stage = "a-long-stage-name-past-sso";
  rich.status = "FAILED";
  rich.message = "a message long enough to live on the heap";
  rich.run_id = "run-2026-11-24-0042";
  rich.host = "ip-10-0-12-34.ec2.internal";
  rich.attributes = many;
  const Attribute one[] = {{"x", "y"}};
  EventFields plain;
  plain.level = Level::kInfo;
  plain.stage = "s";
  plain.status = "";
  plain.message = "m";
  plain.attributes = one;

  const DecodeDefaults with_defaults{"pipeline-b", "default-host", "default-run"};
  const DecodeDefaults no_defaults{"pipeline-c", "", ""};
  for (const DecodeDefaults& defaults : {with_defaults, no_defaults}) {
    LogEvent recycled;
    RoundTrip(rich, 111, DecodeDefaults{"pipeline-a", "h", "r"}, &recycled, /*repeat_count=*/7);
    ASSERT_EQ(recycled.attributes.size(), 4u);  // 3 + repeat_count
    RoundTrip(plain, 222, defaults, &recycled);
    LogEvent fresh;
    RoundTrip(plain, 222, defaults, &fresh);
    ExpectSameEvent(recycled, fresh);
    EXPECT_EQ(recycled.run_id.has_value(), !defaults.run_id.empty());
    EXPECT_EQ(recycled.host.has_value(), !defaults.host.empty());
    ASSERT_EQ(recycled.attributes.size(), 1u);
    EXPECT_EQ(recycled.attributes[0].first, "x");
  }
}

EventFields Fields(std::string_view message) {
  EventFields f;
  f.stage = "load";
  f.status = "RUNNING";
  f.message = message;
  return f;
}

class EventBatchTest : public ::testing::Test {
 protected:
  std::unique_ptr<PipelineBuffer> Make(uint32_t capacity, OverflowPolicy policy) {
    LoggerOptions o;
    o.capacity_events = capacity;
    o.overflow = policy;
    return std::make_unique<PipelineBuffer>("p", o, &clock_, "host-a", nullptr);
  }
  ManualClock clock_;
};

TEST_F(EventBatchTest, DrainReusesTheEventsAndTheirStrings) {
  auto b = Make(256, OverflowPolicy::kDropNewest);
  const std::string long_message(100, 'm');
  EventBatch batch;
  uint64_t bytes = 0;
  for (int i = 0; i < 100; ++i) ASSERT_EQ(b->Log(Fields(long_message)), LogResult::kAccepted);
  ASSERT_EQ(b->Drain(SIZE_MAX, UINT64_MAX, &batch, &bytes), 100u);
  std::vector<const char*> buffers;
  for (const LogEvent& e : batch.events()) buffers.push_back(e.message->data());

  batch.Clear();
  for (int i = 0; i < 100; ++i) ASSERT_EQ(b->Log(Fields(long_message)), LogResult::kAccepted);
  ASSERT_EQ(b->Drain(SIZE_MAX, UINT64_MAX, &batch, &bytes), 100u);
  EXPECT_EQ(batch.capacity(), 100u);
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(*batch[i].message, long_message);
    EXPECT_EQ(batch[i].message->data(), buffers[i]) << "event " << i << " reallocated";
  }
}

// Trim gives back the heap blocks of strings grown past the limit (live or kept) and keeps the
// rest; the footprint it returns counts the events and the blocks still held.
TEST_F(EventBatchTest, TrimReleasesBigStringsAndMeasuresTheRest) {
  auto b = Make(256, OverflowPolicy::kDropNewest);
  const std::string medium(100, 'm');
  const std::string big(5000, 'b');
  EventBatch batch;
  uint64_t bytes = 0;
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(b->Log(Fields(i == 3 ? big : medium)), LogResult::kAccepted);
  }
  ASSERT_EQ(b->Drain(SIZE_MAX, UINT64_MAX, &batch, &bytes), 10u);
  const char* kept = batch[0].message->data();
  const size_t footprint = batch.Trim(256);
  EXPECT_EQ(*batch[0].message, medium);
  EXPECT_EQ(batch[0].message->data(), kept) << "a string under the limit keeps its block";
  EXPECT_LT(batch[3].message->capacity(), 256u) << "the big message's block is given back";
  EXPECT_GE(footprint, batch.capacity() * sizeof(LogEvent) + 9 * 100);
  EXPECT_LT(footprint, batch.capacity() * sizeof(LogEvent) + 9 * 100 + 4096);
  // Recycled, the slot that held the big message takes an ordinary one again.
  batch.Clear();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(b->Log(Fields(medium)), LogResult::kAccepted);
  ASSERT_EQ(b->Drain(SIZE_MAX, UINT64_MAX, &batch, &bytes), 10u);
  EXPECT_EQ(*batch[3].message, medium);
}

TEST_F(EventBatchTest, DrainStopsAtMaxEventsAndWhenTheRingIsEmpty) {
  auto b = Make(64, OverflowPolicy::kDropNewest);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(b->Log(Fields(std::to_string(i))), LogResult::kAccepted);
  EventBatch batch;
  uint64_t bytes = 0;
  EXPECT_EQ(b->Drain(4, UINT64_MAX, &batch, &bytes), 4u);
  EXPECT_EQ(batch.size(), 4u);
  EXPECT_EQ(b->Drain(100, UINT64_MAX, &batch, &bytes), 6u);
  ASSERT_EQ(batch.size(), 10u);  // no trailing empty event
  for (int i = 0; i < 10; ++i) EXPECT_EQ(*batch[i].message, std::to_string(i));
  EXPECT_EQ(bytes, 10u * (4 + 7 + 1));
  EXPECT_EQ(b->Drain(100, UINT64_MAX, &batch, &bytes), 0u);
  EXPECT_EQ(batch.size(), 10u);
}

TEST_F(EventBatchTest, LongDrainReturnsEveryByteToTheBudget) {
  LoggerOptions o;
  o.capacity_events = 2000;  // room to spare: the byte budget is the bound under test
  o.capacity_bytes = 1000 * 20;
  PipelineBuffer b("p", o, &clock_, "h", nullptr);
  // 999 events of 4 + 7 + 9 = 20 bytes: several release chunks and a partial one.
  for (int i = 0; i < 999; ++i) ASSERT_EQ(b.Log(Fields("123456789")), LogResult::kAccepted);
  EXPECT_EQ(b.Stats().buffered_bytes, 999u * 20);
  EventBatch batch;
  uint64_t bytes = 0;
  EXPECT_EQ(b.Drain(SIZE_MAX, UINT64_MAX, &batch, &bytes), 999u);
  EXPECT_EQ(bytes, 999u * 20);
  EXPECT_EQ(b.Stats().buffered_bytes, 0u);
  // The whole budget is usable again.
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(b.Log(Fields("123456789")), LogResult::kAccepted);
  EXPECT_EQ(b.Log(Fields("123456789")), LogResult::kDropped);
}

TEST_F(EventBatchTest, HarvestRepeatsIntoABatch) {
  LoggerOptions o;
  o.overflow = OverflowPolicy::kAggregateRepeats;
  PipelineBuffer b("p", o, &clock_, "h", nullptr);
  EXPECT_EQ(b.Log(Fields("same")), LogResult::kAccepted);
  EXPECT_EQ(b.Log(Fields("same")), LogResult::kAggregated);
  EventBatch batch;
  EXPECT_EQ(b.HarvestRepeats(0, /*all=*/true, &batch), 1u);
  ASSERT_EQ(batch.size(), 1u);
  ASSERT_EQ(batch[0].attributes.size(), 1u);
  EXPECT_EQ(batch[0].attributes[0].first, "repeat_count");
  EXPECT_EQ(batch[0].attributes[0].second, "2");
}

// Producers against a consumer draining into one recycled batch: every event once or counted.
TEST_F(EventBatchTest, ConcurrentProducersAndBatchConsumerAccountForEveryEvent) {
  auto b = Make(256, OverflowPolicy::kDropNewest);
  constexpr int kThreads = 3, kPerThread = 20000;
  std::atomic<int> running{kThreads};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) (void)b->Log(Fields(std::to_string(t * kPerThread + i)));
      running--;
    });
  }
  std::set<std::string> ids;
  size_t drained = 0;
  EventBatch batch;
  uint64_t bytes = 0;
  auto take = [&] {
    batch.Clear();
    drained += b->Drain(64, UINT64_MAX, &batch, &bytes);
    for (const LogEvent& e : batch.events()) ids.insert(*e.message);
  };
  while (running.load() > 0) take();
  for (auto& p : producers) p.join();
  take();
  while (b->HasData()) take();
  LoggerStats s = b->Stats();
  EXPECT_EQ(ids.size(), drained) << "an event was drained twice";
  EXPECT_EQ(s.accepted, drained);
  EXPECT_EQ(s.accepted + s.dropped_total(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.buffered_bytes, 0u);
}

}  // namespace
}  // namespace lakelog::buffer
