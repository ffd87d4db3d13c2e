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
      Parse("group,subject_id\nA,s1\n,s2\n"), "m.csv", 2, "v.npy");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_THAT(meta->subject_ids, ElementsAre("s1", "s2"));
  EXPECT_THAT(meta->groups, ElementsAre("A", ""));
  EXPECT_FALSE(meta->HasNoGroup());
}

// A misspelt column would otherwise enroll every entry without its group.
TEST(MetaTest, UnknownColumnIsAnErrorNamingItAndTheExpectedOnes) {
  absl::StatusOr<EnrollMeta> enroll =
      EnrollMetaFromCsv(Parse("subject_id,grp\ns1,A\n"), "m.csv", 1, "v.npy");
  ASSERT_FALSE(enroll.ok());
  EXPECT_EQ(enroll.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(enroll.status().message()),
              HasSubstr("m.csv: unknown column 'grp'; expected columns: "
                        "subject_id, group"));

  absl::StatusOr<ProbeMeta> probe = ProbeMetaFromCsv(
      Parse("group,reference\nA,s1\n"), "p.csv", 1, "p.npy", false);
  ASSERT_FALSE(probe.ok());
  EXPECT_THAT(std::string(probe.status().message()),
              HasSubstr("p.csv: unknown column 'reference'; expected "
                        "columns: group, ref"));
}

TEST(MetaTest, NoGroupWhenTheColumnIsAbsentOrEveryValueEmpty) {
  absl::StatusOr<EnrollMeta> empty_values = EnrollMetaFromCsv(
      Parse("subject_id,group\ns1,\ns2,\n"), "m.csv", 2, "v.npy");
  ASSERT_TRUE(empty_values.ok()) << empty_values.status();
  EXPECT_TRUE(empty_values->HasNoGroup());
}

TEST(MetaTest, EnrollWithoutGroupColumnHasNoGroups) {
  absl::StatusOr<EnrollMeta> meta =
      EnrollMetaFromCsv(Parse("subject_id\ns1\n"), "m.csv", 1, "v.npy");
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_THAT(meta->groups, IsEmpty());
  EXPECT_TRUE(meta->HasNoGroup());
}

TEST(MetaTest, EnrollErrors) {
  absl::StatusOr<EnrollMeta> missing =
      EnrollMetaFromCsv(Parse("group\nA\n"), "m.csv", 1, "v.npy");
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
