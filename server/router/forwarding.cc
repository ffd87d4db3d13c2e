#include "server/router/forwarding.h"

namespace candor::router {

thread_local const ScopedForwarding* ScopedForwarding::current_ = nullptr;

}  // namespace candor::router
