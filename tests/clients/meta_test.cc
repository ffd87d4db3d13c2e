#include "clients/cli/meta.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace candor {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

CsvTable Parse(const std::string& text) {
  absl::StatusOr<CsvTable> t = ParseCsv(text, "m.csv");
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : CsvTable();
}

TEST(MetaTest, EnrollColumnsFoundByNameInAnyOrder) {
  absl::StatusOr<EnrollMeta> meta = EnrollMetaFromCsv(
      Parse("group,extra,subject_id\nA,1,s1\n,2,s2\n"), "m.csv", 2, "v.npy");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_THAT(meta->subject_ids, ElementsAre("s1", "s2"));
  EXPECT_THAT(meta->groups, ElementsAre("A", ""));
}

TEST(MetaTest, EnrollWithoutGroupColumnHasNoGroups) {
  absl::StatusOr<EnrollMeta> meta =
      EnrollMetaFromCsv(Parse("subject_id\ns1\n"), "m.csv", 1, "v.npy");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_THAT(meta->groups, IsEmpty());
}

TEST(MetaTest, EnrollErrors) {
  absl::StatusOr<EnrollMeta> missing =
      EnrollMetaFromCsv(Parse("id,group\ns1,A\n"), "m.csv", 1, "v.npy");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("m.csv: no 'subject_id' column"));

  absl::StatusOr<EnrollMeta> count = EnrollMetaFromCsv(
      Parse("subject_id,group\ns1,A\ns2,B\n"), "m.csv", 3, "v.npy");
  ASSERT_FALSE(count.ok());
  EXPECT_THAT(std::string(count.status().message()),
              HasSubstr("has 2 records but v.npy has 3 vectors"));

  absl::StatusOr<EnrollMeta> empty = EnrollMetaFromCsv(
      Parse("subject_id,group\ns1,A\n,B\n"), "m.csv", 2, "v.npy");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr("record 2 has an empty subject_id"));
}

TEST(MetaTest, ProbeColumns) {
  absl::StatusOr<ProbeMeta> both = ProbeMetaFromCsv(
      Parse("ref,group\n\"r,1\",A\n"), "m.csv", 1, "p.npy", false);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_THAT(both->refs, ElementsAre("r,1"));
  EXPECT_THAT(both->groups, ElementsAre("A"));

  absl::StatusOr<ProbeMeta> group_only =
      ProbeMetaFromCsv(Parse("group\nA\n"), "m.csv", 1, "p.npy", false);
  ASSERT_TRUE(group_only.ok());
  EXPECT_THAT(group_only->refs, IsEmpty());
}

TEST(MetaTest, ProbeErrors) {
  EXPECT_FALSE(
      ProbeMetaFromCsv(Parse("x\n1\n"), "m.csv", 1, "p.npy", false).ok());
  absl::StatusOr<ProbeMeta> no_ref =
      ProbeMetaFromCsv(Parse("group\nA\n"), "m.csv", 1, "p.npy", true);
  ASSERT_FALSE(no_ref.ok());
  EXPECT_THAT(std::string(no_ref.status().message()), HasSubstr("'ref'"));
  EXPECT_FALSE(
      ProbeMetaFromCsv(Parse("group\nA\n"), "m.csv", 2, "p.npy", false).ok());
}

}  // namespace
}  // namespace candor
