#include "server/batching/dynamic_batcher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/batching/batch_assembly.h"

namespace candor::batching {
namespace {

absl::Status ValidateOptions(const BatcherOptions& options) {
  if (options.max_batch_probes < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_batch_probes must be >= 1, got ", options.max_batch_probes));
  }
  if (options.max_queue_delay_us < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_queue_delay_us must be >= 0, got ", options.max_queue_delay_us));
  }
  if (options.max_queue_requests < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_queue_requests must be >= 1, got ", options.max_queue_requests));
  }
  if (options.enabled && options.worker_threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "worker_threads must be >= 1, got ", options.worker_threads));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DynamicBatcher>> DynamicBatcher::Create(
    const BatcherOptions& options, SearchFn search, BatchObserver* observer,
    Clock* clock) {
  if (absl::Status status = ValidateOptions(options); !status.ok()) {
    return status;
  }
  if (!search) return absl::InvalidArgumentError("search function is empty");
  std::unique_ptr<DynamicBatcher> batcher(
      new DynamicBatcher(options, std::move(search), observer,
                         clock != nullptr ? clock : DefaultClock()));
  if (options.enabled) {
    absl::MutexLock lock(&batcher->shutdown_mu_);
    for (int i = 0; i < options.worker_threads; ++i) {
      batcher->workers_.emplace_back([b = batcher.get()] { b->WorkerLoop(); });
    }
  }
  return batcher;
}

DynamicBatcher::DynamicBatcher(const BatcherOptions& options, SearchFn search,
                               BatchObserver* observer, Clock* clock)
    : options_(options),
      search_(std::move(search)),
      observer_(observer),
      clock_(clock) {}

DynamicBatcher::~DynamicBatcher() { Shutdown(); }

absl::Status DynamicBatcher::Submit(BatchKey key, std::vector<float> probes,
                                    int dim, std::vector<ProbeQuery> queries,
                                    absl::Time deadline, DoneFn done) {
  if (queries.empty()) {
    return absl::InvalidArgumentError("search request has no probes");
  }
  if (dim < 1 || probes.size() != queries.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(
        absl::StrCat("probes hold ", probes.size(), " floats, expected ",
                     queries.size(), " probes x dimension ", dim));
  }
  auto request = std::make_unique<PendingRequest>();
  request->key = std::move(key);
  request->dim = dim;
  request->probes = std::move(probes);
  request->queries = std::move(queries);
  request->deadline = deadline;
  request->done = std::move(done);

  absl::StatusCode dropped = absl::StatusCode::kOk;
  absl::Status status;
  {
    absl::MutexLock lock(&mu_);
    request->enqueued = clock_->Now();
    if (stopping_) {
      return absl::UnavailableError("search batcher is shutting down");
    }
    if (deadline <= request->enqueued) {
      ++counters_.expired_deadline;
      dropped = absl::StatusCode::kDeadlineExceeded;
      status = absl::DeadlineExceededError(
          "deadline passed before the search was queued");
    } else if (!options_.enabled) {
      ++pass_through_running_;
    } else if (queue_.requests() >= options_.max_queue_requests) {
      ++counters_.rejected_queue_full;
      dropped = absl::StatusCode::kResourceExhausted;
      status = absl::ResourceExhaustedError(
          absl::StrCat("search queue is full (", options_.max_queue_requests,
                       " requests waiting, --max_queue_requests)"));
    } else if (!queue_.empty() &&
               queue_.bytes() + request->probe_bytes() >
                   options_.max_queued_bytes) {
      ++counters_.rejected_queue_full;
      dropped = absl::StatusCode::kResourceExhausted;
      status = absl::ResourceExhaustedError(absl::StrCat(
          "search queue is full (", queue_.bytes(), " bytes of probes "
          "waiting; this search's ", request->probe_bytes(), " would pass ",
          options_.max_queued_bytes, ", --max_queued_bytes)"));
    } else {
      queue_.Push(std::move(request));
      work_available_.Signal();
      return absl::OkStatus();
    }
  }
  if (dropped != absl::StatusCode::kOk) {
    if (observer_ != nullptr) observer_->OnDropped(request->key, dropped);
    return status;
  }
  RunPassThrough(std::move(request));
  return absl::OkStatus();
}

void DynamicBatcher::RunPassThrough(std::unique_ptr<PendingRequest> request) {
  {
    absl::MutexLock lock(&mu_);
    ++counters_.batches_run;
    ++counters_.requests_searched;
    counters_.probes_searched += request->num_probes();
  }
  RequestList single;
  single.push_back(std::move(request));
  RunBatch(std::move(single));
  absl::MutexLock lock(&mu_);
  --pass_through_running_;
}

void DynamicBatcher::Shutdown() {
  absl::MutexLock shutdown_lock(&shutdown_mu_);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    work_available_.SignalAll();
  }
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* running) { return *running == 0; }, &pass_through_running_));
}

BatcherStats DynamicBatcher::Stats() const {
  absl::MutexLock lock(&mu_);
  BatcherStats stats = counters_;
  stats.queued_requests = queue_.requests();
  stats.queued_probes = queue_.probes();
  return stats;
}

void DynamicBatcher::WorkerLoop() {
  RequestList batch, expired;
  while (NextWork(&batch, &expired)) {
    FailExpired(std::move(expired));
    if (!batch.empty()) {
      // The lane is busy until its batch is done (RequestQueue::Release).
      const BatchKey key = batch.front()->key;
      const int dim = batch.front()->dim;
      RunBatch(std::move(batch));
      absl::MutexLock lock(&mu_);
      const bool waiting = queue_.Release(key, dim);
      // On shutdown every idle worker must look again: the last lane may
      // have just emptied.
      if (stopping_) {
        work_available_.SignalAll();
      } else if (waiting) {
        work_available_.Signal();
      }
    }
    batch.clear();
    expired.clear();
  }
}

bool DynamicBatcher::NextWork(RequestList* batch, RequestList* expired) {
  absl::MutexLock lock(&mu_);
  while (true) {
    const ReadyRule rule{absl::Microseconds(options_.max_queue_delay_us),
                         options_.max_batch_probes, stopping_};
    const absl::Time now = clock_->Now();
    *batch = queue_.PopBatch(now, rule, expired);
    if (!batch->empty() || !expired->empty()) {
      counters_.expired_deadline += expired->size();
      // Another idle worker may take what is left.
      if (!queue_.empty()) work_available_.Signal();
      if (!batch->empty()) {
        ++counters_.batches_run;
        counters_.requests_searched += batch->size();
        for (const auto& request : *batch) {
          counters_.probes_searched += request->num_probes();
        }
      }
      return true;
    }
    if (stopping_ && queue_.empty()) return false;
    const absl::Time due = queue_.NextDue(rule);
    if (due == absl::InfiniteFuture()) {
      work_available_.Wait(&mu_);
    } else {
      // The clock may be a test's; waiting in real time for the gap it
      // reports keeps the wait finite either way.
      work_available_.WaitWithTimeout(&mu_, due - now);
    }
  }
}

void DynamicBatcher::FailExpired(RequestList expired) {
  for (auto& request : expired) {
    if (observer_ != nullptr) {
      observer_->OnDropped(request->key, absl::StatusCode::kDeadlineExceeded);
    }
    request->done(absl::DeadlineExceededError(
        "deadline passed while the search was queued"));
  }
}

void DynamicBatcher::RunBatch(RequestList batch) {
  const BatchKey& key = batch.front()->key;
  std::vector<int> request_probes;
  request_probes.reserve(batch.size());
  for (const auto& request : batch) {
    request_probes.push_back(request->num_probes());
  }
  // A batch of one is searched from the request's own buffers.
  MergedInput merged;
  if (batch.size() > 1) merged = MergeRequests(batch);
  absl::Span<const float> probes =
      batch.size() > 1 ? merged.probes : batch.front()->probes;
  absl::Span<const ProbeQuery> queries =
      batch.size() > 1 ? merged.queries : batch.front()->queries;

  const absl::Time start = clock_->Now();
  absl::StatusOr<SearchOutcome> found = search_(key, probes, queries);
  const absl::Duration search_time = clock_->Now() - start;

  absl::StatusOr<std::vector<CandidateLists>> split =
      found.ok()
          ? SplitResults(std::move(found->candidates), request_probes)
          : absl::StatusOr<std::vector<CandidateLists>>(found.status());

  if (observer_ != nullptr) {
    BatchEvent event;
    event.key = &key;
    event.requests = static_cast<int>(batch.size());
    event.probes = static_cast<int>(queries.size());
    event.search_time = search_time;
    event.code = split.status().code();
    observer_->OnBatch(event);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    PendingRequest& request = *batch[i];
    if (!split.ok()) {
      request.done(split.status());
      continue;
    }
    SearchOutcome outcome;
    outcome.candidates = std::move((*split)[i]);
    outcome.version = found->version;
    outcome.queue_time = start - request.enqueued;
    outcome.search_time = search_time;
    outcome.batch_probes = static_cast<int>(queries.size());
    request.done(std::move(outcome));
  }
}

}  // namespace candor::batching
