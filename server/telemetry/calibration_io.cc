#include "server/telemetry/calibration_io.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/storage/byte_io.h"
#include "server/storage/files.h"
#include "server/storage/record.h"
#include "server/telemetry/calibration_file.pb.h"

namespace candor::telemetry {
namespace {

constexpr char kMagic[8] = {'C', 'A', 'N', 'D', 'C', 'A', 'L', '1'};
// Magic and format version.
constexpr size_t kHeaderBytes = 8 + 4;

}  // namespace

std::string SerializeCalibration(const Calibration& calibration) {
  const CalibrationMeta& meta = calibration.meta();
  file::CalibrationFile message;
  message.set_created_at_us(meta.created_at_us);
  message.set_gallery_size(meta.gallery_size);
  message.set_gallery_version(meta.gallery_version);
  message.set_top_k(static_cast<uint32_t>(meta.top_k));
  message.set_source(meta.source);
  for (const GroupScores& g : calibration.groups()) {
    file::CalibrationFile::Group* group = message.add_groups();
    group->set_group(g.group);
    group->mutable_nonmated_top1()->Add(g.nonmated_top1.begin(),
                                        g.nonmated_top1.end());
    group->mutable_mated()->Add(g.mated.begin(), g.mated.end());
  }
  std::string out(kMagic, sizeof(kMagic));
  storage::ByteWriter(&out).U32(kCalibrationFormatVersion);
  out += storage::FrameRecord(message.SerializeAsString());
  return out;
}

absl::StatusOr<Calibration> ParseCalibration(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes ||
      std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError("not a candor calibration file (bad magic)");
  }
  const uint32_t version = storage::DecodeU32(bytes.data() + sizeof(kMagic));
  if (version != kCalibrationFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("calibration format version ", version,
                     " is not readable by this build (reads ",
                     kCalibrationFormatVersion, "): calibrate again"));
  }
  const storage::FramedRecord record =
      storage::ReadFramedRecord(absl::string_view(bytes.data() + kHeaderBytes,
                                                  bytes.size() - kHeaderBytes));
  if (!record.ok()) {
    return absl::DataLossError(
        absl::StrCat("calibration file damaged: ", record.error));
  }
  if (kHeaderBytes + record.bytes != bytes.size()) {
    return absl::DataLossError(absl::StrCat(
        "calibration file has ", bytes.size() - kHeaderBytes - record.bytes,
        " bytes after its record"));
  }
  file::CalibrationFile message;
  if (!message.ParseFromArray(record.payload.data(),
                              static_cast<int>(record.payload.size()))) {
    return absl::DataLossError("calibration record does not parse");
  }
  CalibrationMeta meta;
  meta.created_at_us = message.created_at_us();
  meta.gallery_size = message.gallery_size();
  meta.gallery_version = message.gallery_version();
  meta.top_k = static_cast<int>(message.top_k());
  meta.source = message.source();
  std::vector<GroupScores> groups;
  groups.reserve(message.groups_size());
  for (const file::CalibrationFile::Group& g : message.groups()) {
    GroupScores scores;
    scores.group = g.group();
    scores.nonmated_top1.assign(g.nonmated_top1().begin(),
                                g.nonmated_top1().end());
    scores.mated.assign(g.mated().begin(), g.mated().end());
    groups.push_back(std::move(scores));
  }
  return Calibration::FromGroups(std::move(meta), std::move(groups));
}

absl::Status SaveCalibration(storage::Env* env, const Calibration& calibration,
                             const std::string& path) {
  return storage::WriteFileAtomically(env, path,
                                      SerializeCalibration(calibration));
}

absl::StatusOr<Calibration> LoadCalibration(storage::Env* env,
                                            const std::string& path) {
  absl::StatusOr<std::string> bytes = env->ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<Calibration> calibration = ParseCalibration(*bytes);
  if (!calibration.ok()) {
    return absl::Status(
        calibration.status().code(),
        absl::StrCat(path, ": ", calibration.status().message()));
  }
  return calibration;
}

}  // namespace candor::telemetry
