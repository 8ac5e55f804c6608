// MetricsServer: the optional embedded GET /metrics endpoint (prometheus-cpp's civetweb
// Exposer), bound to loopback unless configured otherwise.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lakelog/status.h"

namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace lakelog::http {

class MetricsServer {
 public:
  // Serves `collectables` (kept alive by the caller) on http://bind_address:port/metrics;
  // port 0 picks a free port. Unavailable when the address cannot be bound.
  static Result<std::unique_ptr<MetricsServer>> Start(
      const std::string& bind_address, int port,
      const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables);
  ~MetricsServer();

  int port() const { return port_; }

 private:
  MetricsServer(std::unique_ptr<prometheus::Exposer> exposer, int port);
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_;
};

}  // namespace lakelog::http
