#include "clients/cli/synth.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "clients/cli/csv.h"
#include "clients/cli/file_io.h"

namespace candor {
namespace {

constexpr double kTwoPi = 6.283185307179586;
constexpr double kTwoToMinus53 = 1.0 / 9007199254740992.0;

// Standard normal deviates by Box-Muller, from a fully specified engine.
class Gaussian {
 public:
  explicit Gaussian(uint64_t seed) : engine_(seed) {}

  double Next() {
    if (spare_valid_) {
      spare_valid_ = false;
      return spare_;
    }
    // u1 in (0, 1] so that log(u1) is finite.
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    const double radius = std::sqrt(-2.0 * std::log(u1));
    spare_ = radius * std::sin(kTwoPi * u2);
    spare_valid_ = true;
    return radius * std::cos(kTwoPi * u2);
  }

 private:
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() {
    return static_cast<double>(engine_() >> 11) * kTwoToMinus53;
  }

  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool spare_valid_ = false;
};

using Vec = std::vector<double>;

void Normalize(Vec& v) {
  double norm = 0.0;
  for (double x : v) norm += x * x;
  norm = std::sqrt(norm);
  if (norm == 0.0) return;
  for (double& x : v) x /= norm;
}

Vec RandomUnit(Gaussian& gaussian, int64_t dim) {
  Vec v(static_cast<size_t>(dim));
  for (double& x : v) x = gaussian.Next();
  Normalize(v);
  return v;
}

Vec Identity(Gaussian& gaussian, const Vec& mean, double homogeneity) {
  Vec z = RandomUnit(gaussian, static_cast<int64_t>(mean.size()));
  const double a = std::sqrt(homogeneity);
  const double b = std::sqrt(1.0 - homogeneity);
  for (size_t i = 0; i < z.size(); ++i) z[i] = a * mean[i] + b * z[i];
  Normalize(z);
  return z;
}

// Appends one sample of `identity` to the set's matrix.
void AppendSample(Gaussian& gaussian, const Vec& identity, double sigma,
                  SynthSet& set) {
  const double scale = sigma / std::sqrt(static_cast<double>(identity.size()));
  Vec x(identity.size());
  for (size_t i = 0; i < x.size(); ++i) {
    x[i] = identity[i] + scale * gaussian.Next();
  }
  Normalize(x);
  for (double value : x)
    set.vectors.values.push_back(static_cast<float>(value));
  set.vectors.rows += 1;
}

absl::Status Validate(const SynthOptions& o) {
  if (o.subjects <= 0 || o.per_subject <= 0 || o.dim <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "subjects (", o.subjects, "), per-subject (", o.per_subject,
        ") and dim (", o.dim, ") must be positive"));
  }
  if (o.groups.empty()) {
    return absl::InvalidArgumentError("need at least one group");
  }
  for (const std::string& group : o.groups) {
    if (group.empty()) return absl::InvalidArgumentError("empty group name");
  }
  if (o.mated_probes.value_or(0) < 0 || o.nonmated_subjects.value_or(0) < 0) {
    return absl::InvalidArgumentError(
        "mated-probes and nonmated-subjects must not be negative");
  }
  if (!(o.sigma >= 0.0)) {
    return absl::InvalidArgumentError("sigma must not be negative");
  }
  for (int64_t g = 0; g < static_cast<int64_t>(o.groups.size()); ++g) {
    const double h = Homogeneity(o, g);
    if (!(h >= 0.0 && h < 1.0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("homogeneity of group ", o.groups[g], " would be ", h,
                       "; it must lie in [0, 1): lower the base or the step"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

double Homogeneity(const SynthOptions& options, int64_t group) {
  return options.homogeneity_base +
         static_cast<double>(group) * options.homogeneity_step;
}

absl::StatusOr<SynthData> Synthesize(const SynthOptions& options) {
  if (absl::Status s = Validate(options); !s.ok()) return s;
  const int64_t group_count = static_cast<int64_t>(options.groups.size());
  const int64_t mated = options.mated_probes.value_or(options.subjects);
  const int64_t nonmated = options.nonmated_subjects.value_or(options.subjects);
  Gaussian gaussian(options.seed);

  std::vector<Vec> means;
  for (int64_t g = 0; g < group_count; ++g) {
    means.push_back(RandomUnit(gaussian, options.dim));
  }
  const auto identities = [&](int64_t count) {
    std::vector<Vec> out;
    for (int64_t i = 0; i < count; ++i) {
      const int64_t g = i % group_count;
      out.push_back(Identity(gaussian, means[g], Homogeneity(options, g)));
    }
    return out;
  };
  const std::vector<Vec> enrolled = identities(options.subjects);
  const std::vector<Vec> strangers = identities(nonmated);

  SynthData data;
  for (SynthSet* set : {&data.gallery, &data.mated, &data.nonmated}) {
    set->vectors.cols = options.dim;
  }
  for (int64_t s = 0; s < options.subjects; ++s) {
    for (int64_t k = 0; k < options.per_subject; ++k) {
      AppendSample(gaussian, enrolled[s], options.sigma, data.gallery);
      data.gallery.subject_ids.push_back(absl::StrCat("subj-", s));
      data.gallery.groups.push_back(options.groups[s % group_count]);
    }
  }
  for (int64_t p = 0; p < mated; ++p) {
    const int64_t s = p % options.subjects;
    AppendSample(gaussian, enrolled[s], options.sigma, data.mated);
    data.mated.subject_ids.push_back(absl::StrCat("subj-", s));
    data.mated.groups.push_back(options.groups[s % group_count]);
  }
  for (int64_t j = 0; j < nonmated; ++j) {
    AppendSample(gaussian, strangers[j], options.sigma, data.nonmated);
    data.nonmated.subject_ids.push_back(absl::StrCat("nonmated-", j));
    data.nonmated.groups.push_back(options.groups[j % group_count]);
  }
  return data;
}

namespace {

absl::Status WriteSet(const SynthSet& set, const std::string& dir,
                      const std::string& stem, bool enrolled) {
  const std::string base = (std::filesystem::path(dir) / stem).string();
  if (absl::Status s = WriteNpy(base + ".npy", set.vectors.values,
                                set.vectors.rows, set.vectors.cols);
      !s.ok()) {
    return s;
  }
  std::string csv = enrolled ? FormatCsvRecord({"subject_id", "group"})
                             : FormatCsvRecord({"group", "ref"});
  for (size_t i = 0; i < set.subject_ids.size(); ++i) {
    csv += enrolled ? FormatCsvRecord({set.subject_ids[i], set.groups[i]})
                    : FormatCsvRecord({set.groups[i], set.subject_ids[i]});
  }
  return WriteFileBytes(base + ".csv", csv);
}

}  // namespace

absl::Status WriteSynth(const SynthData& data, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat(dir, ": cannot create: ", error.message()));
  }
  if (absl::Status s = WriteSet(data.gallery, dir, "gallery", true); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteSet(data.mated, dir, "mated", false); !s.ok()) {
    return s;
  }
  return WriteSet(data.nonmated, dir, "nonmated", false);
}

}  // namespace candor
