#include "lakelog/clock.h"

#include <time.h>

namespace lakelog {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
  }
};

}  // namespace

Clock* RealClock() {
  static SystemClock clock;
  return &clock;
}

}  // namespace lakelog
