// candor calibrate, candor report and candor policy.
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "clients/cli/calibration_table.h"
#include "clients/cli/command.h"
#include "clients/cli/meta.h"
#include "clients/cli/npy.h"
#include "clients/cli/progress.h"

namespace candor::cli {
namespace {

absl::Status PrintReport(const v1::CalibrationReport& report,
                         const std::string& format) {
  if (format == "json") {
    std::cout << ProtoToJson(report).dump(2) << "\n";
  } else {
    PrintCalibrationTable(report, std::cout);
  }
  return absl::OkStatus();
}

// A calibration runs every probe against the gallery and may outlast the
// per-call deadline; say which flag gives it more time.
absl::Status ExplainDeadline(const absl::Status& status,
                             const GlobalOptions& global) {
  if (status.code() != absl::StatusCode::kDeadlineExceeded) return status;
  return absl::DeadlineExceededError(absl::StrCat(
      status.message(), " (the calibration did not finish within --timeout-s ",
      global.timeout_s,
      "; give a larger --timeout-s, or --timeout-s 0 for no deadline)"));
}

struct CalibrateOptions {
  std::string name;
  std::string nonmated;
  std::string nonmated_meta;
  std::string mated;
  std::string mated_meta;
  uint32_t self_audit = 0;
  bool is_self_audit = false;
  uint64_t seed = 1;
  uint32_t top_k = 0;
  std::string format = "table";
};

absl::Status RunLabeled(const GlobalOptions& global,
                        const CalibrateOptions& o) {
  if (o.mated == "-" && o.nonmated == "-") {
    return UsageError("--nonmated and --mated cannot both read standard input");
  }
  absl::StatusOr<FloatMatrix> nonmated = ReadNpy(o.nonmated);
  if (!nonmated.ok()) return nonmated.status();
  absl::StatusOr<ProbeMeta> nonmated_meta =
      ReadProbeMeta(o.nonmated_meta, nonmated->rows, o.nonmated);
  if (!nonmated_meta.ok()) return nonmated_meta.status();
  LabeledSetInput set;
  set.nonmated = nonmated->values;
  set.nonmated_rows = nonmated->rows;
  set.nonmated_groups = nonmated_meta->groups;
  FloatMatrix mated;
  if (!o.mated.empty()) {
    absl::StatusOr<FloatMatrix> read = ReadNpy(o.mated);
    if (!read.ok()) return read.status();
    mated = *std::move(read);
    if (mated.cols != nonmated->cols) {
      return absl::InvalidArgumentError(
          absl::StrCat(o.mated, " has ", mated.cols, " columns but ",
                       o.nonmated, " has ", nonmated->cols));
    }
    absl::StatusOr<ProbeMeta> mated_meta =
        ReadProbeMeta(o.mated_meta, mated.rows, o.mated, /*require_ref=*/true);
    if (!mated_meta.ok()) return mated_meta.status();
    set.mated = mated.values;
    set.mated_rows = mated.rows;
    set.mated_groups = mated_meta->groups;
    set.mated_subject_ids = mated_meta->refs;
  }
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::CalibrationReport> report;
  {
    // The server reports no progress of its own while it calibrates.
    Ticker ticker("calibrate", StderrIsTerminal());
    report = (*client)->CalibrateLabeled(o.name, nonmated->cols, set, o.top_k);
  }
  if (!report.ok()) return ExplainDeadline(report.status(), global);
  return PrintReport(*report, o.format);
}

absl::Status RunCalibrate(const GlobalOptions& global,
                          const CalibrateOptions& o) {
  if (!o.is_self_audit) return RunLabeled(global, o);
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::CalibrationReport> report;
  {
    Ticker ticker("calibrate", StderrIsTerminal());
    report =
        (*client)->CalibrateSelfAudit(o.name, o.self_audit, o.seed, o.top_k);
  }
  if (!report.ok()) return ExplainDeadline(report.status(), global);
  return PrintReport(*report, o.format);
}

struct ReportOptions {
  std::string name;
  std::vector<float> thresholds;
  double target_fpir = 0.0;
  std::string format = "table";
};

struct PolicyOptions {
  std::string name;
  float min_threshold = 0.0f;
  double max_fpir = 0.0;
  double max_disparity = 0.0;
  std::string action;
  bool clear = false;
  std::string format = "json";
  CLI::Option* min_threshold_option = nullptr;
  CLI::Option* max_fpir_option = nullptr;
  CLI::Option* max_disparity_option = nullptr;
};

absl::Status RunPolicy(const GlobalOptions& global, const PolicyOptions& o) {
  v1::Policy policy;
  if (o.min_threshold_option->count() > 0) {
    policy.set_min_threshold(o.min_threshold);
  }
  if (o.max_fpir_option->count() > 0) policy.set_max_fpir(o.max_fpir);
  if (o.max_disparity_option->count() > 0) {
    policy.set_max_disparity(o.max_disparity);
  }
  if (o.action == "reject") policy.set_action(v1::Policy::REJECT);
  if (o.action == "warn") policy.set_action(v1::Policy::WARN);
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery =
      (*client)->SetPolicy(o.name, policy, o.clear);
  if (!gallery.ok()) return gallery.status();
  nlohmann::json out;
  out["gallery"] = gallery->name();
  out["policy"] = ProtoToJson(gallery->policy());
  PrintFormatted(out, o.format);
  return absl::OkStatus();
}

}  // namespace

void AddCalibrationCommands(CLI::App& app, const GlobalOptions& global,
                            Action* action) {
  auto c = std::make_shared<CalibrateOptions>();
  CLI::App* sub = app.add_subcommand(
      "calibrate",
      "measure FPIR/FNIR per group from a labeled set or a self-audit");
  sub->add_option("name", c->name, "gallery name")->required();
  CLI::Option* nonmated =
      sub->add_option("--nonmated", c->nonmated,
                      ".npy of probes whose subjects are not enrolled (- "
                      "reads standard input)");
  CLI::Option* nonmated_meta = sub->add_option(
      "--nonmated-meta", c->nonmated_meta, "CSV with column group (and ref)");
  CLI::Option* mated = sub->add_option("--mated", c->mated,
                                       ".npy of probes of enrolled subjects");
  CLI::Option* mated_meta = sub->add_option(
      "--mated-meta", c->mated_meta,
      "CSV with columns group,ref (ref = the mate's subject id)");
  CLI::Option* self_audit = sub->add_option(
      "--self-audit", c->self_audit,
      "calibrate from N entries sampled from the gallery itself");
  CLI::Option* seed =
      sub->add_option("--seed", c->seed, "self-audit sampling seed")
          ->capture_default_str();
  sub->add_option("--top-k", c->top_k,
                  "rank within which a mate counts as found (default: "
                  "server's, 10)");
  AddFormatOption(sub, &c->format);
  nonmated->needs(nonmated_meta);
  nonmated_meta->needs(nonmated);
  mated->needs(mated_meta)->needs(nonmated);
  mated_meta->needs(mated);
  self_audit->excludes(nonmated)->excludes(mated);
  seed->needs(self_audit);
  sub->callback([c, self_audit, nonmated, &global, action] {
    if (self_audit->count() == 0 && nonmated->count() == 0) {
      throw CLI::ValidationError("calibrate",
                                 "give --nonmated/--nonmated-meta or "
                                 "--self-audit N");
    }
    c->is_self_audit = self_audit->count() > 0;
    *action = [c, &global] { return RunCalibrate(global, *c); };
  });

  auto r = std::make_shared<ReportOptions>();
  CLI::App* report = app.add_subcommand(
      "report", "the stored calibration on a grid of thresholds");
  report->add_option("name", r->name, "gallery name")->required();
  report
      ->add_option("--thresholds", r->thresholds,
                   "comma-separated thresholds (default: -1..1 step 0.05)")
      ->delimiter(',');
  report->add_option("--target-fpir", r->target_fpir,
                     "target FPIR (default: the policy's max_fpir or 0.001)");
  AddFormatOption(report, &r->format);
  report->callback([r, &global, action] {
    *action = [r, &global]() -> absl::Status {
      absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
      if (!client.ok()) return client.status();
      absl::StatusOr<v1::CalibrationReport> calibration =
          (*client)->GetCalibration(r->name, r->thresholds, r->target_fpir);
      if (!calibration.ok()) return calibration.status();
      return PrintReport(*calibration, r->format);
    };
  });

  auto p = std::make_shared<PolicyOptions>();
  CLI::App* policy =
      app.add_subcommand("policy", "set or clear a gallery's policy override");
  policy->add_option("name", p->name, "gallery name")->required();
  p->min_threshold_option =
      policy->add_option("--min-threshold", p->min_threshold,
                         "lowest threshold a request may use");
  p->max_fpir_option = policy->add_option("--max-fpir", p->max_fpir,
                                          "highest FPIR any group may have");
  p->max_disparity_option =
      policy->add_option("--max-disparity", p->max_disparity,
                         "highest max/min FPIR ratio between groups");
  policy->add_option("--action", p->action, "what a breach does")
      ->check(CLI::IsMember({"reject", "warn"}));
  CLI::Option* clear = policy->add_flag(
      "--clear", p->clear, "remove the override (server policy applies)");
  clear->excludes(p->min_threshold_option)
      ->excludes(p->max_fpir_option)
      ->excludes(p->max_disparity_option);
  AddFormatOption(policy, &p->format);
  policy->callback([p, &global, action] {
    *action = [p, &global] { return RunPolicy(global, *p); };
  });
}

}  // namespace candor::cli
