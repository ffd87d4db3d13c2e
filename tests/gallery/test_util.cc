#include "tests/gallery/test_util.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "gtest/gtest.h"

namespace candor::gallery::testing {
namespace {

void RemoveTree(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = opendir(path.c_str())) {
      while (struct dirent* e = readdir(d)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") RemoveTree(path + "/" + name);
      }
      closedir(d);
    }
    rmdir(path.c_str());
  } else {
    unlink(path.c_str());
  }
}

}  // namespace

ScratchDir::ScratchDir() {
  std::string tmpl = ::testing::TempDir() + "candor_gallery_XXXXXX";
  char* made = mkdtemp(tmpl.data());
  EXPECT_NE(made, nullptr);
  path_ = tmpl;
}

ScratchDir::~ScratchDir() { RemoveTree(path_); }

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      for (auto& f : FilesUnder(path)) out.push_back(f);
    } else if (S_ISREG(st.st_mode)) {
      out.push_back(path);
    }
  }
  closedir(d);
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, absl::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

int CountInFiles(const std::string& dir, absl::string_view needle) {
  int hits = 0;
  for (const std::string& path : FilesUnder(dir)) {
    const std::string bytes = ReadAll(path);
    for (size_t pos = bytes.find(needle.data(), 0, needle.size());
         pos != std::string::npos;
         pos = bytes.find(needle.data(), pos + 1, needle.size())) {
      ++hits;
    }
  }
  return hits;
}

std::unique_ptr<GalleryStore> OpenStore(const std::string& dir) {
  StoreOptions options;
  options.data_dir = dir;
  auto store = GalleryStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<std::string> Names(const GalleryStore& store) {
  std::vector<std::string> out;
  for (const auto& g : store.List()) out.push_back(g->name());
  return out;
}

}  // namespace candor::gallery::testing
