// --format table's printer: what a person reads for each JSON shape.
#include "clients/cli/table_output.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor::cli {
namespace {

std::string Table(const nlohmann::json& value) {
  std::ostringstream out;
  PrintTable(value, out);
  return out.str();
}

TEST(TableOutputTest, ObjectIsOneAlignedLinePerLeaf) {
  const nlohmann::json gallery = nlohmann::json::parse(R"({
      "name": "faces", "size": 76, "index": {"type": "FLAT", "nlist": 0},
      "groups": ["A", "B"], "policy": null})");
  EXPECT_EQ(Table(gallery),
            "groups       A,B\n"
            "index.nlist  0\n"
            "index.type   FLAT\n"
            "name         faces\n"
            "policy       -\n"
            "size         76\n");
}

TEST(TableOutputTest, ArrayOfObjectsIsRowsUnderAHeader) {
  const nlohmann::json list = nlohmann::json::parse(R"([
      {"name": "a", "size": 1},
      {"name": "longer", "size": 12345, "extra": true}])");
  EXPECT_EQ(Table(list),
            "name    size   extra\n"
            "a       1\n"
            "longer  12345  true\n");
}

TEST(TableOutputTest, ScalarsAndEmptyArrays) {
  EXPECT_EQ(Table(nlohmann::json::parse("[3, 4]")), "3\n4\n");
  EXPECT_EQ(Table(nlohmann::json::array()), "(none)\n");
  EXPECT_EQ(Table(nlohmann::json("text")), "text\n");
}

TEST(TableOutputTest, NestedArraysOfObjectsAreNumbered) {
  const nlohmann::json report = nlohmann::json::parse(
      R"({"groups": [{"group": "A", "fpir": 0.5}, {"group": "B", "fpir": 0}]})");
  EXPECT_EQ(Table(report),
            "groups[0].fpir   0.5\n"
            "groups[0].group  A\n"
            "groups[1].fpir   0\n"
            "groups[1].group  B\n");
}

}  // namespace
}  // namespace candor::cli
