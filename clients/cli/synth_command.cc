// candor synth: writes a synthetic data set (see synth.h for the model).
#include <iostream>
#include <memory>

#include "absl/strings/str_join.h"
#include "clients/cli/command.h"
#include "clients/cli/synth.h"

namespace candor::cli {
namespace {

constexpr char kModelHelp[] = R"(Model (documented in clients/cli/synth.h):
  group g (0-based) has a random unit mean direction m_g and homogeneity
    h_g = homogeneity-base + g * homogeneity-step   (0.30, 0.40, 0.50, ...)
  subject identity  u = normalize(sqrt(h_g) m_g + sqrt(1 - h_g) z), z random unit
  each sample       x = normalize(u + sigma n / sqrt(D)), n ~ N(0, I)
  Identities of later groups cluster more tightly, so their impostor scores
  run higher (as NIST FRVT found between demographic groups); two samples
  of one subject score about 1 / (1 + sigma^2), 0.74 at sigma 0.6.
  Subject i is in group i mod G. Deterministic for a seed: mt19937_64 with
  Box-Muller normals written in candor (not std::normal_distribution).
Files: gallery.npy + gallery.csv (subject_id,group), mated.npy + mated.csv
  (group,ref = enrolled subject), nonmated.npy + nonmated.csv (group,ref =
  a subject that is not enrolled).)";

struct SynthCommandOptions {
  std::string out;
  SynthOptions synth;
  int64_t mated_probes = 0;
  int64_t nonmated_subjects = 0;
  // "table": the one-line summary a person reads.
  std::string format = "table";
};

}  // namespace

void AddSynthOptions(CLI::App* sub, SynthOptions* o) {
  sub->add_option("--subjects", o->subjects, "enrolled subjects")
      ->capture_default_str();
  sub->add_option("--per-subject", o->per_subject,
                  "enrolled samples per subject")
      ->capture_default_str();
  sub->add_option("--dim", o->dim, "embedding dimension")
      ->capture_default_str();
  sub->add_option("--groups", o->groups, "comma-separated group labels")
      ->delimiter(',')
      ->default_str(absl::StrJoin(o->groups, ","));
  sub->add_option("--seed", o->seed, "random seed")->capture_default_str();
  sub->add_option("--homogeneity-base", o->homogeneity_base,
                  "h of the first group")
      ->capture_default_str();
  sub->add_option("--homogeneity-step", o->homogeneity_step,
                  "h added per later group")
      ->capture_default_str();
  sub->add_option("--sigma", o->sigma, "sample noise")->capture_default_str();
}

void AddSynthCommand(CLI::App& app, Action* action) {
  auto o = std::make_shared<SynthCommandOptions>();
  CLI::App* sub = app.add_subcommand(
      "synth", "write a synthetic data set with group differentials");
  sub->footer(kModelHelp);
  sub->add_option("--out", o->out, "output directory (created)")->required();
  AddSynthOptions(sub, &o->synth);
  CLI::Option* mated =
      sub->add_option("--mated-probes", o->mated_probes,
                      "mated probes (default: one per subject)");
  CLI::Option* nonmated = sub->add_option(
      "--nonmated-subjects", o->nonmated_subjects,
      "non-mated probes, one per unenrolled subject (default: --subjects)");
  AddFormatOption(sub, &o->format);
  sub->callback([o, mated, nonmated, action] {
    if (mated->count() > 0) o->synth.mated_probes = o->mated_probes;
    if (nonmated->count() > 0) {
      o->synth.nonmated_subjects = o->nonmated_subjects;
    }
    *action = [o]() -> absl::Status {
      absl::StatusOr<SynthData> data = Synthesize(o->synth);
      if (!data.ok()) return UsageError(data.status().message());
      if (absl::Status s = WriteSynth(*data, o->out); !s.ok()) return s;
      if (o->format == "json") {
        nlohmann::json out;
        out["out"] = o->out;
        out["gallery"] = data->gallery.vectors.rows;
        out["dim"] = o->synth.dim;
        out["mated"] = data->mated.vectors.rows;
        out["nonmated"] = data->nonmated.vectors.rows;
        std::cout << out.dump(2) << "\n";
        return absl::OkStatus();
      }
      std::cout << "wrote " << o->out << ": gallery "
                << data->gallery.vectors.rows << " x " << o->synth.dim
                << ", mated " << data->mated.vectors.rows << ", nonmated "
                << data->nonmated.vectors.rows << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace candor::cli
