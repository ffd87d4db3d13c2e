// Helpers shared by the gallery tests: scratch directories, seeded random
// unit vectors, and a brute-force view of files on disk.
#ifndef CANDOR_TESTS_GALLERY_TEST_UTIL_H_
#define CANDOR_TESTS_GALLERY_TEST_UTIL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "server/gallery/gallery_store.h"
#include "tests/lib/random_rows.h"

namespace candor::gallery::testing {

// A fresh directory under the test's temp dir, erased on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// rows x dim floats, each row of unit L2 norm, from a seed or a generator.
using ::candor::testing::RandomUnitRows;

// Every regular file under `dir`, recursively.
std::vector<std::string> FilesUnder(const std::string& dir);
std::string ReadAll(const std::string& path);
void WriteAll(const std::string& path, absl::string_view bytes);
// Occurrences of `needle` in the bytes of every file under `dir`.
int CountInFiles(const std::string& dir, absl::string_view needle);

// The store on `dir` with default options; null, and a test failure, when
// it does not open.
std::unique_ptr<GalleryStore> OpenStore(const std::string& dir);
// The names of the store's galleries, in List() order.
std::vector<std::string> Names(const GalleryStore& store);

}  // namespace candor::gallery::testing

#endif  // CANDOR_TESTS_GALLERY_TEST_UTIL_H_
