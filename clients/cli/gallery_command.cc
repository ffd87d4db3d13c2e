// candor gallery create|list|info|delete|compact|train, and candor stats.
#include <iostream>
#include <memory>

#include "clients/cli/command.h"

namespace candor::cli {
namespace {

struct CreateOptions {
  std::string name;
  uint32_t dim = 0;
  std::string index = "flat";
  uint32_t nlist = 0;
  uint32_t nprobe = 0;
  std::string storage;
  std::string precision = "fp32";
  std::string format = "json";
};

absl::Status RunCreate(const GlobalOptions& global, const CreateOptions& o) {
  v1::IndexSpec index;
  index.set_type(o.index == "ivf" ? v1::IndexSpec::IVF_FLAT
                                  : v1::IndexSpec::FLAT);
  index.set_nlist(o.nlist);
  index.set_default_nprobe(o.nprobe);
  if (o.storage == "fp32") index.set_storage(v1::IndexSpec::FP32);
  if (o.storage == "fp16") index.set_storage(v1::IndexSpec::FP16);
  v1::CreateGalleryRequest request;
  request.set_name(o.name);
  request.set_dimension(o.dim);
  *request.mutable_index() = index;
  request.set_precision(o.precision == "bf16" ? v1::PRECISION_BF16
                                              : v1::PRECISION_FP32);
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery = (*client)->CreateGallery(request);
  if (!gallery.ok()) return gallery.status();
  PrintFormatted(ProtoToJson(*gallery), o.format);
  return absl::OkStatus();
}

absl::Status RunList(const GlobalOptions& global, const std::string& format) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::vector<v1::Gallery>> galleries =
      (*client)->ListGalleries();
  if (!galleries.ok()) return galleries.status();
  nlohmann::json out = nlohmann::json::array();
  for (const v1::Gallery& gallery : *galleries) {
    out.push_back(ProtoToJson(gallery));
  }
  PrintFormatted(out, format);
  return absl::OkStatus();
}

absl::Status RunInfo(const GlobalOptions& global, const std::string& name,
                     const std::string& format) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery = (*client)->GetGallery(name);
  if (!gallery.ok()) return gallery.status();
  PrintFormatted(ProtoToJson(*gallery), format);
  return absl::OkStatus();
}

absl::Status RunDelete(const GlobalOptions& global, const std::string& name,
                       const std::string& /*format: prints nothing*/) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  return (*client)->DeleteGallery(name);
}

absl::Status RunCompact(const GlobalOptions& global, const std::string& name,
                        const std::string& format) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::CompactGalleryResponse> response =
      (*client)->CompactGallery(name);
  if (!response.ok()) return response.status();
  PrintFormatted(ProtoToJson(*response), format);
  return absl::OkStatus();
}

absl::Status RunTrain(const GlobalOptions& global, const std::string& name,
                      uint32_t nlist, const std::string& format) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery = (*client)->TrainIndex(name, nlist);
  if (!gallery.ok()) return gallery.status();
  PrintFormatted(ProtoToJson(*gallery), format);
  return absl::OkStatus();
}

// Adds `candor gallery <verb> NAME`, whose work is run(name, format);
// --format only when the verb prints something.
void AddNamed(
    CLI::App& gallery, const std::string& verb, const std::string& help,
    bool prints, Action* action,
    std::function<absl::Status(const std::string&, const std::string&)> run) {
  auto name = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("json");
  CLI::App* sub = gallery.add_subcommand(verb, help);
  sub->add_option("name", *name, "gallery name")->required();
  if (prints) AddFormatOption(sub, format.get());
  sub->callback([name, format, run, action] {
    *action = [name, format, run] { return run(*name, *format); };
  });
}

}  // namespace

void AddGalleryCommand(CLI::App& app, const GlobalOptions& global,
                       Action* action) {
  CLI::App* gallery = app.add_subcommand("gallery", "manage galleries");
  gallery->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* sub = gallery->add_subcommand("create", "create an empty gallery");
  sub->add_option("name", create->name, "gallery name")->required();
  sub->add_option("--dim", create->dim, "embedding dimension")->required();
  sub->add_option("--index", create->index, "index type")
      ->check(CLI::IsMember({"flat", "ivf"}))
      ->capture_default_str();
  sub->add_option("--nlist", create->nlist,
                  "IVF: inverted lists (0 = chosen from the size)");
  sub->add_option("--nprobe", create->nprobe,
                  "IVF: lists visited per probe by default");
  sub->add_option("--storage", create->storage,
                  "device storage precision (default: the backend's)")
      ->check(CLI::IsMember({"fp32", "fp16"}));
  sub->add_option("--precision", create->precision,
                  "CPU flat index vectors: fp32, or bf16 (half the memory per "
                  "entry, the same answers)")
      ->check(CLI::IsMember({"fp32", "bf16"}))
      ->capture_default_str();
  AddFormatOption(sub, &create->format);
  sub->callback([create, &global, action] {
    *action = [create, &global] { return RunCreate(global, *create); };
  });

  auto list_format = std::make_shared<std::string>("json");
  CLI::App* list = gallery->add_subcommand("list", "list galleries");
  AddFormatOption(list, list_format.get());
  list->callback([list_format, &global, action] {
    *action = [list_format, &global] { return RunList(global, *list_format); };
  });

  AddNamed(*gallery, "info", "describe one gallery", /*prints=*/true, action,
           [&global](const std::string& n, const std::string& f) {
             return RunInfo(global, n, f);
           });
  AddNamed(*gallery, "delete", "delete a gallery and its files",
           /*prints=*/false, action,
           [&global](const std::string& n, const std::string& f) {
             return RunDelete(global, n, f);
           });
  AddNamed(*gallery, "compact",
           "rewrite the snapshot so no removed vector stays on disk",
           /*prints=*/true, action,
           [&global](const std::string& n, const std::string& f) {
             return RunCompact(global, n, f);
           });

  auto nlist = std::make_shared<uint32_t>(0);
  auto train_name = std::make_shared<std::string>();
  auto train_format = std::make_shared<std::string>("json");
  CLI::App* train =
      gallery->add_subcommand("train", "(re)train an IVF gallery's index");
  train->add_option("name", *train_name, "gallery name")->required();
  train->add_option("--nlist", *nlist, "inverted lists (0 = keep)");
  AddFormatOption(train, train_format.get());
  train->callback([train_name, nlist, train_format, &global, action] {
    *action = [train_name, nlist, train_format, &global] {
      return RunTrain(global, *train_name, *nlist, *train_format);
    };
  });
}

void AddStatsCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action) {
  auto format = std::make_shared<std::string>("json");
  CLI::App* sub = app.add_subcommand("stats", "server-wide figures");
  AddFormatOption(sub, format.get());
  sub->callback([format, &global, action] {
    *action = [format, &global]() -> absl::Status {
      absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
      if (!client.ok()) return client.status();
      absl::StatusOr<v1::Stats> stats = (*client)->GetStats();
      if (!stats.ok()) return stats.status();
      PrintFormatted(ProtoToJson(*stats), *format);
      return absl::OkStatus();
    };
  });
}

}  // namespace candor::cli
