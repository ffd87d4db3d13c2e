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
};

absl::Status RunCreate(const GlobalOptions& global, const CreateOptions& o) {
  v1::IndexSpec index;
  index.set_type(o.index == "ivf" ? v1::IndexSpec::IVF_FLAT
                                  : v1::IndexSpec::FLAT);
  index.set_nlist(o.nlist);
  index.set_default_nprobe(o.nprobe);
  if (o.storage == "fp32") index.set_storage(v1::IndexSpec::FP32);
  if (o.storage == "fp16") index.set_storage(v1::IndexSpec::FP16);
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery =
      (*client)->CreateGallery(o.name, o.dim, index);
  if (!gallery.ok()) return gallery.status();
  std::cout << ProtoToJson(*gallery).dump(2) << "\n";
  return absl::OkStatus();
}

absl::Status RunList(const GlobalOptions& global) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<std::vector<v1::Gallery>> galleries =
      (*client)->ListGalleries();
  if (!galleries.ok()) return galleries.status();
  nlohmann::json out = nlohmann::json::array();
  for (const v1::Gallery& gallery : *galleries) {
    out.push_back(ProtoToJson(gallery));
  }
  std::cout << out.dump(2) << "\n";
  return absl::OkStatus();
}

absl::Status RunInfo(const GlobalOptions& global, const std::string& name) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery = (*client)->GetGallery(name);
  if (!gallery.ok()) return gallery.status();
  std::cout << ProtoToJson(*gallery).dump(2) << "\n";
  return absl::OkStatus();
}

absl::Status RunDelete(const GlobalOptions& global, const std::string& name) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  return (*client)->DeleteGallery(name);
}

absl::Status RunCompact(const GlobalOptions& global, const std::string& name) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::CompactGalleryResponse> response =
      (*client)->CompactGallery(name);
  if (!response.ok()) return response.status();
  std::cout << ProtoToJson(*response).dump(2) << "\n";
  return absl::OkStatus();
}

absl::Status RunTrain(const GlobalOptions& global, const std::string& name,
                      uint32_t nlist) {
  absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
  if (!client.ok()) return client.status();
  absl::StatusOr<v1::Gallery> gallery = (*client)->TrainIndex(name, nlist);
  if (!gallery.ok()) return gallery.status();
  std::cout << ProtoToJson(*gallery).dump(2) << "\n";
  return absl::OkStatus();
}

// Adds `candor gallery <verb> NAME`, whose work is run(name).
void AddNamed(CLI::App& gallery, const std::string& verb,
              const std::string& help, Action* action,
              std::function<absl::Status(const std::string&)> run) {
  auto name = std::make_shared<std::string>();
  CLI::App* sub = gallery.add_subcommand(verb, help);
  sub->add_option("name", *name, "gallery name")->required();
  sub->callback(
      [name, run, action] { *action = [name, run] { return run(*name); }; });
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
  sub->callback([create, &global, action] {
    *action = [create, &global] { return RunCreate(global, *create); };
  });

  CLI::App* list = gallery->add_subcommand("list", "list galleries (JSON)");
  list->callback(
      [&global, action] { *action = [&global] { return RunList(global); }; });

  AddNamed(*gallery, "info", "describe one gallery (JSON)", action,
           [&global](const std::string& n) { return RunInfo(global, n); });
  AddNamed(*gallery, "delete", "delete a gallery and its files", action,
           [&global](const std::string& n) { return RunDelete(global, n); });
  AddNamed(*gallery, "compact",
           "rewrite the snapshot so no removed vector stays on disk", action,
           [&global](const std::string& n) { return RunCompact(global, n); });

  auto nlist = std::make_shared<uint32_t>(0);
  auto train_name = std::make_shared<std::string>();
  CLI::App* train =
      gallery->add_subcommand("train", "(re)train an IVF gallery's index");
  train->add_option("name", *train_name, "gallery name")->required();
  train->add_option("--nlist", *nlist, "inverted lists (0 = keep)");
  train->callback([train_name, nlist, &global, action] {
    *action = [train_name, nlist, &global] {
      return RunTrain(global, *train_name, *nlist);
    };
  });
}

void AddStatsCommand(CLI::App& app, const GlobalOptions& global,
                     Action* action) {
  CLI::App* sub = app.add_subcommand("stats", "server-wide figures (JSON)");
  sub->callback([&global, action] {
    *action = [&global]() -> absl::Status {
      absl::StatusOr<std::unique_ptr<Client>> client = MakeClient(global);
      if (!client.ok()) return client.status();
      absl::StatusOr<v1::Stats> stats = (*client)->GetStats();
      if (!stats.ok()) return stats.status();
      std::cout << ProtoToJson(*stats).dump(2) << "\n";
      return absl::OkStatus();
    };
  });
}

}  // namespace candor::cli
