#include "tests/storage/fault_env.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/storage/files.h"

namespace candor::storage::testing {
namespace {

constexpr uint64_t kSectorBytes = 512;

// Test plumbing below the Env: rewriting files to their post-power-loss
// state is not an operation of the system under test.
void WriteWhole(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

const char* OpName(Op op) {
  switch (op) {
    case Op::kCreate:
      return "create";
    case Op::kAppend:
      return "append";
    case Op::kSync:
      return "sync";
    case Op::kTruncate:
      return "truncate";
    case Op::kClose:
      return "close";
    case Op::kRename:
      return "rename";
    case Op::kSyncDir:
      return "sync-dir";
    case Op::kRemove:
      return "remove";
  }
  return "?";
}

class FaultEnv::File final : public WritableFile {
 public:
  File(FaultEnv* env, std::unique_ptr<WritableFile> base)
      : env_(env), base_(std::move(base)) {}

  absl::Status Append(absl::string_view data) override {
    if (auto s = env_->Count(Op::kAppend, path()); !s.ok()) return s;
    absl::Status s = base_->Append(data);
    if (s.ok()) env_->NoteAppend(path(), data.size());
    return s;
  }
  absl::Status Sync() override {
    if (auto s = env_->Count(Op::kSync, path()); !s.ok()) return s;
    // Covers what was appended before the call, not what comes during it.
    uint64_t size;
    {
      absl::MutexLock lock(&env_->mu_);
      size = env_->files_[path()].size;
    }
    absl::Status s = base_->Sync();
    if (s.ok()) env_->NoteSync(path(), size);
    return s;
  }
  absl::Status Truncate(uint64_t size) override {
    if (auto s = env_->Count(Op::kTruncate, path()); !s.ok()) return s;
    absl::Status s = base_->Truncate(size);
    if (s.ok()) env_->NoteTruncate(path(), size);
    return s;
  }
  absl::Status Close() override {
    absl::Status s = env_->Count(Op::kClose, path());
    // close(2) releases the descriptor even when it reports an error.
    absl::Status closed = base_->Close();
    return s.ok() ? closed : s;
  }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultEnv* const env_;
  const std::unique_ptr<WritableFile> base_;
};

FaultEnv::FaultEnv(Env* base) : base_(base) {}
FaultEnv::~FaultEnv() = default;

void FaultEnv::FailAt(uint64_t n, std::optional<Op> kind, bool persistent) {
  absl::MutexLock lock(&mu_);
  fault_kind_ = kind;
  fault_at_ = (kind ? counts_[static_cast<int>(*kind)] : total_) + n;
  fault_armed_ = true;
  fault_persistent_ = persistent;
  fault_fired_ = false;
  fired_kind_.reset();
}

void FaultEnv::ClearFaults() {
  absl::MutexLock lock(&mu_);
  fault_armed_ = false;
}

bool FaultEnv::fault_fired() const {
  absl::MutexLock lock(&mu_);
  return fault_fired_;
}

std::optional<Op> FaultEnv::fired_kind() const {
  absl::MutexLock lock(&mu_);
  return fired_kind_;
}

uint64_t FaultEnv::count(Op kind) const {
  absl::MutexLock lock(&mu_);
  return counts_[static_cast<int>(kind)];
}

uint64_t FaultEnv::total_ops() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

absl::Status FaultEnv::Count(Op kind, const std::string& what) {
  absl::MutexLock lock(&mu_);
  if (powered_off_) {
    return absl::UnavailableError(
        absl::StrCat("power lost: ", OpName(kind), " ", what));
  }
  const uint64_t n = ++counts_[static_cast<int>(kind)];
  ++total_;
  if (!fault_armed_) return absl::OkStatus();
  if (fault_kind_.has_value() && *fault_kind_ != kind) return absl::OkStatus();
  const uint64_t at = fault_kind_.has_value() ? n : total_;
  if (at == fault_at_ || (fault_persistent_ && at > fault_at_)) {
    if (!fault_fired_) fired_kind_ = kind;
    fault_fired_ = true;
    return absl::InternalError(absl::StrCat(
        "injected I/O error: ", OpName(kind), " ", what, " (op ", at, ")"));
  }
  return absl::OkStatus();
}

std::string FaultEnv::DurableContents(const std::string& path) {
  auto bytes = base_->ReadFile(path);
  if (!bytes.ok()) return std::string();
  auto it = files_.find(path);
  if (it != files_.end() && bytes->size() > it->second.synced) {
    bytes->resize(it->second.synced);
  }
  return *std::move(bytes);
}

void FaultEnv::NoteDirOp(DirOp op) {
  const std::string dir = ParentDir(op.path);
  dir_ops_[dir].push_back(std::move(op));
}

void FaultEnv::NoteAppend(const std::string& path, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  files_[path].size += bytes;
}

void FaultEnv::NoteSync(const std::string& path, uint64_t size) {
  absl::MutexLock lock(&mu_);
  FileState& f = files_[path];
  f.synced = std::max(f.synced, std::min(size, f.size));
}

void FaultEnv::NoteTruncate(const std::string& path, uint64_t size) {
  absl::MutexLock lock(&mu_);
  files_[path] = {size, size};
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(
    const std::string& path) {
  if (auto s = Count(Op::kCreate, path); !s.ok()) return s;
  const bool existed = base_->FileExists(path);
  auto file = base_->NewWritableFile(path);
  if (!file.ok()) return file.status();
  absl::MutexLock lock(&mu_);
  if (!existed) NoteDirOp({DirOp::kCreateFile, path, "", std::nullopt, {}});
  // An existing file emptied: its old bytes count as gone (pessimistic).
  files_[path] = FileState{};
  return std::unique_ptr<WritableFile>(new File(this, std::move(*file)));
}

absl::StatusOr<std::unique_ptr<WritableFile>> FaultEnv::NewAppendableFile(
    const std::string& path) {
  if (auto s = Count(Op::kCreate, path); !s.ok()) return s;
  auto file = base_->NewAppendableFile(path);
  if (!file.ok()) return file.status();
  auto size = base_->FileSize(path);
  absl::MutexLock lock(&mu_);
  if (files_.find(path) == files_.end()) {
    // Written before this Env saw it: durable as it stands.
    const uint64_t n = size.ok() ? *size : 0;
    files_[path] = {n, n};
  }
  return std::unique_ptr<WritableFile>(new File(this, std::move(*file)));
}

absl::StatusOr<std::string> FaultEnv::ReadFile(const std::string& path) {
  return base_->ReadFile(path);
}
absl::StatusOr<std::shared_ptr<const MappedFile>> FaultEnv::MapFile(
    const std::string& path) {
  return base_->MapFile(path);
}
absl::StatusOr<uint64_t> FaultEnv::FileSize(const std::string& path) {
  return base_->FileSize(path);
}
bool FaultEnv::FileExists(const std::string& path) {
  return base_->FileExists(path);
}
bool FaultEnv::IsDirectory(const std::string& path) {
  return base_->IsDirectory(path);
}
absl::StatusOr<std::vector<std::string>> FaultEnv::ListDir(
    const std::string& dir) {
  return base_->ListDir(dir);
}

absl::Status FaultEnv::RenameFile(const std::string& from,
                                  const std::string& to) {
  if (auto s = Count(Op::kRename, to); !s.ok()) return s;
  DirOp op{DirOp::kRename, to, from, std::nullopt, {}};
  {
    absl::MutexLock lock(&mu_);
    if (base_->FileExists(to)) {
      op.old_contents = DurableContents(to);
      const uint64_t n = op.old_contents->size();
      op.old_state = {n, n};
    }
  }
  if (auto s = base_->RenameFile(from, to); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = files_.find(from);
  FileState moved;
  if (it != files_.end()) {
    moved = it->second;
    files_.erase(it);
  } else {
    auto size = base_->FileSize(to);
    moved = {size.ok() ? *size : 0, size.ok() ? *size : 0};
  }
  files_[to] = moved;
  NoteDirOp(std::move(op));
  return absl::OkStatus();
}

absl::Status FaultEnv::LinkFile(const std::string& from,
                                const std::string& to) {
  if (auto s = Count(Op::kRename, to); !s.ok()) return s;
  if (auto s = base_->LinkFile(from, to); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  auto it = files_.find(from);
  if (it != files_.end()) files_[to] = it->second;
  NoteDirOp({DirOp::kCreateFile, to, "", std::nullopt, {}});
  return absl::OkStatus();
}

absl::Status FaultEnv::SyncDir(const std::string& dir) {
  if (auto s = Count(Op::kSyncDir, dir); !s.ok()) return s;
  if (auto s = base_->SyncDir(dir); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  dir_ops_.erase(dir);
  // Spelled with a trailing slash or not, it is the same directory.
  if (!dir.empty() && dir.back() == '/') {
    dir_ops_.erase(dir.substr(0, dir.size() - 1));
  }
  return absl::OkStatus();
}

absl::Status FaultEnv::RemoveFile(const std::string& path) {
  if (auto s = Count(Op::kRemove, path); !s.ok()) return s;
  std::string durable;
  {
    absl::MutexLock lock(&mu_);
    durable = DurableContents(path);
  }
  if (auto s = base_->RemoveFile(path); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  files_.erase(path);
  NoteDirOp({DirOp::kRemove, path, "", std::move(durable), {}});
  return absl::OkStatus();
}

absl::Status FaultEnv::EraseFile(const std::string& path) {
  if (auto s = Count(Op::kRemove, path); !s.ok()) return s;
  auto size = base_->FileSize(path);
  if (auto s = base_->EraseFile(path); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  files_.erase(path);
  // The zeros were synced; only the unlink may not be durable yet.
  NoteDirOp(
      {DirOp::kRemove, path, "", std::string(size.ok() ? *size : 0, '\0'), {}});
  return absl::OkStatus();
}

absl::Status FaultEnv::TruncateFile(const std::string& path, uint64_t size) {
  if (auto s = Count(Op::kTruncate, path); !s.ok()) return s;
  if (auto s = base_->TruncateFile(path, size); !s.ok()) return s;
  NoteTruncate(path, size);
  return absl::OkStatus();
}

absl::Status FaultEnv::CreateDir(const std::string& dir) {
  if (auto s = Count(Op::kCreate, dir); !s.ok()) return s;
  if (auto s = base_->CreateDir(dir); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  NoteDirOp({DirOp::kCreateDir, dir, "", std::nullopt, {}});
  return absl::OkStatus();
}

absl::Status FaultEnv::RemoveDir(const std::string& dir) {
  if (auto s = Count(Op::kRemove, dir); !s.ok()) return s;
  if (auto s = base_->RemoveDir(dir); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  // Undone as a directory re-created empty (old_contents unset).
  NoteDirOp({DirOp::kRemove, dir, "", std::nullopt, {}});
  return absl::OkStatus();
}

void FaultEnv::PowerLoss(Loss loss, uint32_t seed) {
  absl::MutexLock lock(&mu_);
  powered_off_ = true;
  namespace fs = std::filesystem;
  std::mt19937 rng(seed);

  // Unsynced bytes of files written through this Env.
  for (const auto& [path, state] : files_) {
    auto bytes = base_->ReadFile(path);
    if (!bytes.ok() || bytes->size() <= state.synced) continue;
    std::string& b = *bytes;
    const uint64_t size = b.size();
    if (loss == Loss::kDropUnsynced) {
      b.resize(state.synced);
    } else {
      uint64_t keep = size / kSectorBytes * kSectorBytes;
      if (keep == size) keep -= std::min<uint64_t>(keep, kSectorBytes);
      keep = std::max(keep, state.synced);
      for (uint64_t i = keep; i < size; ++i) {
        b[i] = loss == Loss::kTearZero ? '\0' : static_cast<char>(rng());
      }
    }
    WriteWhole(path, b);
  }

  // Directory changes not made durable, newest first. Each directory's
  // list is in order; across directories the order does not matter for
  // the layouts candor writes (one directory per file kind).
  for (auto& [dir, ops] : dir_ops_) {
    for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
      DirOp& op = *it;
      std::error_code ec;
      switch (op.kind) {
        case DirOp::kCreateFile:
          fs::remove(op.path, ec);
          break;
        case DirOp::kCreateDir:
          fs::remove_all(op.path, ec);
          break;
        case DirOp::kRename:
          if (fs::exists(op.path, ec)) fs::rename(op.path, op.from, ec);
          if (op.old_contents.has_value())
            WriteWhole(op.path, *op.old_contents);
          break;
        case DirOp::kRemove:
          if (!fs::is_directory(ParentDir(op.path), ec)) break;
          if (op.old_contents.has_value()) {
            WriteWhole(op.path, *op.old_contents);
          } else {
            fs::create_directory(op.path, ec);
          }
          break;
      }
    }
  }
  dir_ops_.clear();
  files_.clear();
}

}  // namespace candor::storage::testing
