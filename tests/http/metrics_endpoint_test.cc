// The embedded GET /metrics endpoint, scraped over loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include "flush/test_sinks.h"
#include "lakelog/engine.h"

namespace lakelog {
namespace {

TEST(MetricsEndpointTest, ServesSeriesOnAnEphemeralLoopbackPort) {
  auto log = std::make_shared<testing::SinkLog>();
  EngineOptions o;
  o.flush_threads = 1;
  o.metrics_port = EngineOptions::kEphemeralMetricsPort;
  auto engine = Engine::Open(o, std::make_unique<testing::MemorySink>(log)).value();
  ASSERT_GT(engine->metrics_port(), 0);
  LoggerOptions lo;
  lo.overflow = OverflowPolicy::kShedByLevel;
  lo.capacity_events = 10;
  Logger p = engine->GetLogger("index_loader", lo).value();
  for (int i = 0; i < 10; ++i) (void)p.Log(Level::kDebug, "s", "x", "m");  // 8 kept, 2 shed
  ASSERT_TRUE(engine->Flush(std::chrono::seconds(30)).ok());

  httplib::Client client("127.0.0.1", engine->metrics_port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  const std::string& body = res->body;
  EXPECT_NE(
      body.find("lakelog_events_dropped_total{pipeline=\"index_loader\",reason=\"shed\"} 2\n"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find("lakelog_events_flushed_total{pipeline=\"index_loader\"} 8\n"),
            std::string::npos);
  EXPECT_NE(body.find("lakelog_flushes_total{result=\"ok\",sink=\"memory\"} 1\n"),
            std::string::npos);
  ASSERT_TRUE(engine->Stop().ok());
  EXPECT_EQ(engine->metrics_port(), 0);
}

TEST(MetricsEndpointTest, PortInUseIsUnavailable) {
  auto log = std::make_shared<testing::SinkLog>();
  EngineOptions o;
  o.metrics_port = EngineOptions::kEphemeralMetricsPort;
  auto first = Engine::Open(o, std::make_unique<testing::MemorySink>(log)).value();
  o.metrics_port = first->metrics_port();
  auto second = Engine::Open(o, std::make_unique<testing::MemorySink>(log));
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace lakelog
