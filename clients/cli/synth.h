// Synthetic face-embedding-like data with demographic differentials, for
// demos and tests.
//
// Model. Group g (0-based, in the order given) has a mean direction m_g, a
// random unit vector, and a homogeneity
//     h_g = homogeneity_base + g * homogeneity_step    (default 0.30, +0.10)
// Each subject of group g has the identity
//     u = normalize(sqrt(h_g) * m_g + sqrt(1 - h_g) * z),  z a random unit
// so two identities of group g have cosine about h_g: later groups cluster
// more tightly and their impostor (non-mated) scores run higher, as NIST's
// FRVT found between demographic groups of real face recognizers. Each
// sample (an enrolled entry or a probe) is
//     x = normalize(u + sigma * n / sqrt(D)),  n ~ N(0, I_D), sigma = 0.6
// so two samples of one subject score about 1 / (1 + sigma^2) ~ 0.74.
// Subject i belongs to group i mod G.
//
// Output, in the same order every time for a seed:
//   gallery:  subjects x per_subject samples, subject ids "subj-<i>"
//   mated:    mated_probes fresh samples of enrolled subjects 0, 1, 2, ...
//             (cycling), ref = their subject id
//   nonmated: one sample of each of nonmated_subjects subjects that are
//             not enrolled, ref "nonmated-<j>"
//
// Determinism: std::mt19937_64 seeded with `seed`, and normal deviates by
// the Box-Muller transform written here (not std::normal_distribution,
// whose algorithm each standard library chooses), with uniforms
// (bits >> 11) * 2^-53. The same seed gives the same bytes on any platform
// with IEEE float and the same libm sqrt/log/cos/sin results.
#ifndef CANDOR_CLIENTS_CLI_SYNTH_H_
#define CANDOR_CLIENTS_CLI_SYNTH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "clients/cli/npy.h"

namespace candor {

struct SynthOptions {
  int64_t subjects = 300;
  int64_t per_subject = 2;
  int64_t dim = 128;
  std::vector<std::string> groups = {"A", "B", "C"};
  uint64_t seed = 1;
  // Unset: one per enrolled subject.
  std::optional<int64_t> mated_probes;
  // Unset: as many as enrolled subjects.
  std::optional<int64_t> nonmated_subjects;
  double homogeneity_base = 0.30;
  double homogeneity_step = 0.10;
  double sigma = 0.6;
};

// Probes or entries with their CSV columns.
struct SynthSet {
  FloatMatrix vectors;
  // Enrolled: subject ids. Probes: refs (the probe's subject id).
  std::vector<std::string> subject_ids;
  std::vector<std::string> groups;
};

struct SynthData {
  SynthSet gallery;
  SynthSet mated;
  SynthSet nonmated;
};

// h_g for group index g.
double Homogeneity(const SynthOptions& options, int64_t group);

// InvalidArgument for non-positive sizes, no groups, an empty group name, a
// negative sigma or a homogeneity outside [0, 1).
absl::StatusOr<SynthData> Synthesize(const SynthOptions& options);

// Writes gallery.npy + gallery.csv (subject_id,group), mated.npy +
// mated.csv (group,ref) and nonmated.npy + nonmated.csv (group,ref) into
// dir, creating it if needed.
absl::Status WriteSynth(const SynthData& data, const std::string& dir);

}  // namespace candor

#endif  // CANDOR_CLIENTS_CLI_SYNTH_H_
