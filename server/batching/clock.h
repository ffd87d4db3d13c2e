// Where the batcher reads the time. Tests inject a clock they advance by
// hand so that deadline expiry is deterministic; the server uses real time.
#ifndef CANDOR_SERVER_BATCHING_CLOCK_H_
#define CANDOR_SERVER_BATCHING_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace candor::batching {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

class RealClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

// A process-wide RealClock (never destroyed).
Clock* DefaultClock();

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_CLOCK_H_
