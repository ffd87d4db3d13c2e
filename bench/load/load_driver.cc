#include "bench/load/load_driver.h"

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/time/clock.h"

namespace candor::load {

struct LoadDriver::Call {
  grpc::ClientContext context;
  const v1::SearchRequest* request = nullptr;
  v1::SearchResponse response;
  absl::Time latency_from;
};

LoadDriver::LoadDriver(v1::Candor::Stub* stub,
                       const std::vector<v1::SearchRequest>* requests,
                       const LoadPlan& plan, LatencyRecorder* recorder,
                       ResponseCheck check)
    : stub_(stub),
      requests_(requests),
      plan_(plan),
      recorder_(recorder),
      check_(std::move(check)) {}

bool LoadDriver::TryReserve(bool bounded) {
  absl::MutexLock lock(&mu_);
  return ReserveLocked(bounded);
}

bool LoadDriver::ReserveLocked(bool bounded) {
  if (stopping_) return false;
  if (plan_.max_requests > 0 && sent_ >= plan_.max_requests) return false;
  if (bounded && in_flight_ >= plan_.max_in_flight) {
    ++skipped_;
    return false;
  }
  ++sent_;
  ++in_flight_;
  return true;
}

void LoadDriver::Send(absl::Time latency_from) {
  auto* call = new Call;
  call->latency_from = latency_from;
  call->context.set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoMicroseconds(plan_.call_timeout));
  int64_t index;
  {
    absl::MutexLock lock(&mu_);
    index = sent_ % static_cast<int64_t>(requests_->size());
  }
  call->request = &(*requests_)[index];
  stub_->async()->Search(
      &call->context, call->request, &call->response,
      [this, call](grpc::Status status) { OnDone(call, status.error_code()); });
}

void LoadDriver::OnDone(Call* call, int code) {
  const absl::Time now = absl::Now();
  recorder_->Record(now - call->latency_from, code);
  std::string problem;
  if (code == grpc::StatusCode::OK && check_) {
    problem = check_(*call->request, call->response);
  }
  delete call;
  bool send_next = false;
  {
    absl::MutexLock lock(&mu_);
    if (!problem.empty() && invalid_++ == 0) first_invalid_ = problem;
    last_done_ = std::max(last_done_, now);
    // A closed loop's next call is counted in flight before this one leaves
    // the count: Run returns (and the driver goes) once nothing is in
    // flight, so after the decrement this thread must not touch the driver
    // unless it holds a reserved call.
    send_next = plan_.mode == LoopMode::kClosed && ReserveLocked(false);
    --in_flight_;
  }
  if (send_next) Send(absl::Now());
}

void LoadDriver::Pace() {
  const absl::Duration period = absl::Seconds(1.0 / plan_.rate_rps);
  absl::Time start;
  {
    absl::MutexLock lock(&mu_);
    start = start_;
  }
  for (int64_t i = 0;; ++i) {
    const absl::Time scheduled = start + i * period;
    const absl::Duration wait = scheduled - absl::Now();
    if (wait > absl::ZeroDuration()) absl::SleepFor(wait);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ ||
          (plan_.max_requests > 0 && sent_ >= plan_.max_requests)) {
        return;
      }
    }
    if (TryReserve(true)) Send(scheduled);
  }
}

Progress LoadDriver::Snapshot() const {
  Progress p;
  {
    absl::MutexLock lock(&mu_);
    p.elapsed = absl::Now() - start_;
    p.sent = sent_;
    p.in_flight = in_flight_;
  }
  p.completed = recorder_->completed();
  p.failed = recorder_->failed();
  return p;
}

RunTotals LoadDriver::Run(
    const std::function<void(const Progress&)>& progress) {
  const absl::Time start = absl::Now();
  const absl::Time stop_sending = start + plan_.duration;
  {
    absl::MutexLock lock(&mu_);
    start_ = start;
    last_done_ = start;
  }
  std::thread pacer;
  if (plan_.mode == LoopMode::kOpen) {
    pacer = std::thread([this] { Pace(); });
  } else {
    for (int i = 0; i < plan_.concurrency && TryReserve(false); ++i) {
      Send(absl::Now());
    }
  }

  // Sending phase: until the duration ends or the count is sent and done.
  auto count_done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return plan_.max_requests > 0 && sent_ >= plan_.max_requests &&
           in_flight_ == 0;
  };
  absl::Time next_report = start + absl::Seconds(1);
  while (true) {
    const absl::Time until = std::min(next_report, stop_sending);
    bool finished;
    {
      absl::MutexLock lock(&mu_);
      finished = mu_.AwaitWithDeadline(absl::Condition(&count_done), until);
    }
    if (finished || absl::Now() >= stop_sending) break;
    progress(Snapshot());
    next_report += absl::Seconds(1);
  }
  // Draining phase: every call has a deadline, so this ends.
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (pacer.joinable()) pacer.join();
  while (true) {
    bool drained;
    {
      absl::MutexLock lock(&mu_);
      drained = mu_.AwaitWithTimeout(
          absl::Condition(
              +[](int64_t* in_flight) { return *in_flight == 0; }, &in_flight_),
          absl::Seconds(1));
    }
    if (drained) break;
    progress(Snapshot());
  }
  progress(Snapshot());

  absl::MutexLock lock(&mu_);
  return RunTotals{sent_, skipped_, invalid_, first_invalid_,
                   last_done_ - start_};
}

}  // namespace candor::load
