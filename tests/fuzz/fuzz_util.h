// Helpers of the fuzz targets: untrusted bytes put where a parser reads
// them (a file, for the parsers that take a path).
#ifndef CANDOR_TESTS_FUZZ_FUZZ_UTIL_H_
#define CANDOR_TESTS_FUZZ_FUZZ_UTIL_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace candor::fuzz {

// A folder of this process's own under the temporary directory, made once.
inline const std::string& ScratchDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(
        (std::filesystem::temp_directory_path() /
         ("candor-fuzz-" + std::to_string(getpid())))
            .string());
    std::filesystem::create_directories(*d);
    return d;
  }();
  return *dir;
}

// Writes `size` bytes at `path` (replacing it) and returns the path.
inline std::string WriteScratch(const std::string& path, const uint8_t* data,
                                size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f != nullptr) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  }
  return path;
}

}  // namespace candor::fuzz

#endif  // CANDOR_TESTS_FUZZ_FUZZ_UTIL_H_
