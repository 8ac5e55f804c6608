#include "http/metrics_server.h"

#include <prometheus/exposer.h>

#include <exception>

namespace lakelog::http {

MetricsServer::MetricsServer(std::unique_ptr<prometheus::Exposer> exposer, int port)
    : exposer_(std::move(exposer)), port_(port) {}

MetricsServer::~MetricsServer() = default;

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const std::string& bind_address, int port,
    const std::vector<std::shared_ptr<prometheus::Collectable>>& collectables) {
  std::string address = bind_address + ":" + std::to_string(port < 0 ? 0 : port);
  std::unique_ptr<prometheus::Exposer> exposer;
  try {
    // civetweb reports bind failures by throwing; keep that inside the library.
    exposer = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/1);
  } catch (const std::exception& e) {
    return Status::Unavailable("metrics endpoint " + address + ": " + e.what());
  }
  for (const auto& c : collectables) exposer->RegisterCollectable(c);
  std::vector<int> ports = exposer->GetListeningPorts();
  if (ports.empty()) return Status::Unavailable("metrics endpoint " + address + ": not bound");
  int bound = ports.front();
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(exposer), bound));
}

}  // namespace lakelog::http
