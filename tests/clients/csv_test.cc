#include "clients/cli/csv.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(CsvTest, PlainFieldsAndHeader) {
  absl::StatusOr<CsvTable> t = ParseCsv("subject_id,group\na,X\nb,\n", "m");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->header, ElementsAre("subject_id", "group"));
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_THAT(t->records[0], ElementsAre("a", "X"));
  EXPECT_THAT(t->records[1], ElementsAre("b", ""));
  EXPECT_EQ(t->Column("group"), 1u);
  EXPECT_FALSE(t->Column("ref").has_value());
}

TEST(CsvTest, QuotedFieldsHoldQuotesCommasAndLineBreaks) {
  absl::StatusOr<CsvTable> t = ParseCsv(
      "ref,group\r\n\"a,b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\"\"\r\n",
      "m");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_THAT(t->records[0], ElementsAre("a,b", "say \"hi\""));
  EXPECT_THAT(t->records[1], ElementsAre("two\nlines", ""));
}

TEST(CsvTest, LastLineWithoutNewlineAndBlankLinesAndBom) {
  absl::StatusOr<CsvTable> t = ParseCsv("\xEF\xBB\xBFx,y\n\n1,2\n\n3,4", "m");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(t->header, ElementsAre("x", "y"));
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_THAT(t->records[1], ElementsAre("3", "4"));
}

TEST(CsvTest, QuotedEmptyFieldInOneColumnFileIsARecord) {
  absl::StatusOr<CsvTable> t = ParseCsv("group\n\"\"\nA\n", "m");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->records.size(), 2u);
  EXPECT_THAT(t->records[0], ElementsAre(""));
}

TEST(CsvTest, Errors) {
  const auto message = [](const std::string& text) {
    absl::StatusOr<CsvTable> t = ParseCsv(text, "meta.csv");
    EXPECT_FALSE(t.ok()) << text;
    return std::string(t.status().message());
  };
  EXPECT_THAT(message(""), HasSubstr("meta.csv:1: empty file"));
  EXPECT_THAT(message("a,b\n\"open,x\n"),
              HasSubstr("meta.csv:2: unterminated quoted field"));
  EXPECT_THAT(message("a,b\nx\"y,z\n"), HasSubstr("quote inside"));
  EXPECT_THAT(message("a,b\n\"x\"y,z\n"), HasSubstr("after a closing quote"));
  EXPECT_THAT(message("a,b\n1,2\n1,2,3\n"),
              HasSubstr("meta.csv:3: record has 3 fields, the header has 2"));
}

TEST(CsvTest, FormatRoundTripsThroughParse) {
  const std::vector<std::vector<std::string>> records = {
      {"h1", "h2"},
      {"plain", "with,comma"},
      {"with \"quote\"", "line\nbreak"},
      {"", ""}};
  std::string text;
  for (const auto& r : records) text += FormatCsvRecord(r);
  EXPECT_EQ(FormatCsvRecord({"a", "b,c"}), "a,\"b,c\"\n");
  absl::StatusOr<CsvTable> t = ParseCsv(text, "m");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->header, records[0]);
  ASSERT_EQ(t->records.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(t->records[i], records[i + 1]);
}

}  // namespace
}  // namespace candor
