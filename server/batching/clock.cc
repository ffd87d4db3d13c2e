#include "server/batching/clock.h"

namespace candor::batching {

Clock* DefaultClock() {
  static RealClock* const clock = new RealClock();
  return clock;
}

}  // namespace candor::batching
