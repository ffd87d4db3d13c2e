// What a request searches, as the batcher sees it: an opaque handle to the
// caller's object (the API layer's is one gallery incarnation) and a name
// for observers and messages. The batcher never looks inside; only the
// search function, which made the key, knows the object's type.
#ifndef CANDOR_SERVER_BATCHING_BATCH_KEY_H_
#define CANDOR_SERVER_BATCHING_BATCH_KEY_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace candor::batching {

// Two keys are equal exactly when they hold the same object. The key owns a
// reference, so while a request for the object waits, the object lives and
// its address cannot pass to another one: a gallery deleted and created
// again under its name is a different key, however close in time.
class BatchKey {
 public:
  // Holds nothing; equal to every other empty key.
  BatchKey() = default;
  BatchKey(std::shared_ptr<const void> target, std::string name)
      : target_(std::move(target)), name_(std::move(name)) {}

  // For observers and messages only; never compared.
  const std::string& name() const { return name_; }

  // The object, for the search function that made the key and knows T.
  template <typename T>
  std::shared_ptr<const T> target() const {
    return std::static_pointer_cast<const T>(target_);
  }

  friend bool operator==(const BatchKey& a, const BatchKey& b) {
    return a.target_ == b.target_;
  }
  friend bool operator<(const BatchKey& a, const BatchKey& b) {
    return std::less<const void*>()(a.target_.get(), b.target_.get());
  }

 private:
  std::shared_ptr<const void> target_;
  std::string name_;
};

}  // namespace candor::batching

#endif  // CANDOR_SERVER_BATCHING_BATCH_KEY_H_
