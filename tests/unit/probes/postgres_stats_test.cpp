// The database metrics' row handling: names and labels as postgres_exporter has them, NULLs
// and malformed rows left out rather than guessed.

#include "probes/postgres_stats.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace covet::probes {
namespace {

const StatsStatement& statement(std::string_view what) {
  for (const StatsStatement& s : postgres_stats_statements()) {
    if (s.what == what) return s;
  }
  ADD_FAILURE() << "no statement " << what;
  return postgres_stats_statements().front();
}

std::vector<Reading> readings_of(std::string_view what, std::vector<StatsRow> rows) {
  std::vector<Reading> out;
  statement(what).to_readings(rows, out);
  return out;
}

const Reading* find(const std::vector<Reading>& readings, std::string_view name,
                    std::vector<std::pair<std::string, std::string>> labels) {
  auto it = std::find_if(readings.begin(), readings.end(),
                         [&](const Reading& r) { return r.name == name && r.labels == labels; });
  return it == readings.end() ? nullptr : &*it;
}

TEST(PostgresStats, EveryStatementIsARead) {
  ASSERT_EQ(postgres_stats_statements().size(), 4u);
  for (const StatsStatement& s : postgres_stats_statements()) {
    EXPECT_TRUE(s.sql.starts_with("SELECT ")) << s.what;
    EXPECT_EQ(s.sql.find(';'), std::string_view::npos) << s.what << ": one statement each";
  }
}

TEST(PostgresStats, DatabaseRowsBecomeSevenSeriesLabelledByDatabase) {
  const auto out = readings_of("pg_stat_database",
                               {{"5", "postgres", "3", "120", "2", "4000", "180", "0", "8192"},
                                {"0", std::nullopt, "0", "0", "0", "442", "91", "0", "0"}});
  ASSERT_EQ(out.size(), 14u);
  const Reading* commits =
      find(out, "pg_stat_database_xact_commit", {{"datid", "5"}, {"datname", "postgres"}});
  ASSERT_NE(commits, nullptr);
  EXPECT_EQ(commits->value, 120);
  // The shared catalogs' row (datname NULL) as postgres_exporter shows it: datname "".
  const Reading* shared = find(out, "pg_stat_database_blks_hit", {{"datid", "0"}, {"datname", ""}});
  ASSERT_NE(shared, nullptr);
  EXPECT_EQ(shared->value, 442);
  const Reading* temp =
      find(out, "pg_stat_database_temp_bytes", {{"datid", "5"}, {"datname", "postgres"}});
  ASSERT_NE(temp, nullptr);
  EXPECT_EQ(temp->value, 8192);
}

TEST(PostgresStats, NullOrNonNumericCellsAreLeftOutNotZero) {
  const auto out =
      readings_of("pg_stat_database", {{"5", "app", std::nullopt, "x", "2", "4", "1", "0", "0"}});
  EXPECT_EQ(find(out, "pg_stat_database_numbackends", {{"datid", "5"}, {"datname", "app"}}),
            nullptr);
  EXPECT_EQ(find(out, "pg_stat_database_xact_commit", {{"datid", "5"}, {"datname", "app"}}),
            nullptr);
  EXPECT_NE(find(out, "pg_stat_database_xact_rollback", {{"datid", "5"}, {"datname", "app"}}),
            nullptr);
}

TEST(PostgresStats, RowsOfTheWrongShapeAreSkipped) {
  EXPECT_TRUE(readings_of("pg_stat_database", {{"5", "app", "1"}}).empty());
  EXPECT_TRUE(readings_of("pg_stat_activity", {{"app", "idle"}}).empty());
  EXPECT_TRUE(readings_of("settings and replication", {}).empty());
  EXPECT_TRUE(
      readings_of("settings and replication", {{"100", "0", "1"}, {"100", "0", "1"}}).empty());
}

TEST(PostgresStats, ActivityHasCountAndLongestTransactionPerState) {
  const auto out =
      readings_of("pg_stat_activity", {{"app", "active", "2", "12.5"}, {"app", "idle", "0", "0"}});
  const Reading* active =
      find(out, "pg_stat_activity_count", {{"datname", "app"}, {"state", "active"}});
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->value, 2);
  // "_count" on a gauge reads as part of a histogram to the exposition lint.
  EXPECT_TRUE(active->untyped);
  const Reading* longest =
      find(out, "pg_stat_activity_max_tx_duration", {{"datname", "app"}, {"state", "active"}});
  ASSERT_NE(longest, nullptr);
  EXPECT_DOUBLE_EQ(longest->value, 12.5);
  EXPECT_NE(find(out, "pg_stat_activity_count", {{"datname", "app"}, {"state", "idle"}}), nullptr);
}

TEST(PostgresStats, ServerRowHasSettingsLagAndStartTime) {
  const auto out = readings_of("settings and replication", {{"100", "0.25", "1795559043.254446"}});
  ASSERT_NE(find(out, "pg_settings_max_connections", {}), nullptr);
  EXPECT_EQ(find(out, "pg_settings_max_connections", {})->value, 100);
  EXPECT_DOUBLE_EQ(find(out, "pg_replication_lag_seconds", {})->value, 0.25);
  EXPECT_DOUBLE_EQ(find(out, "pg_postmaster_start_time_seconds", {})->value, 1795559043.254446);

  // A standby that has replayed nothing yet has no lag to report.
  const auto fresh = readings_of("settings and replication", {{"100", std::nullopt, "1"}});
  EXPECT_EQ(find(fresh, "pg_replication_lag_seconds", {}), nullptr);
  EXPECT_NE(find(fresh, "pg_settings_max_connections", {}), nullptr);
}

TEST(PostgresStats, DatabaseSize) {
  const auto out = readings_of("pg_database_size", {{"app", "7708007"}});
  ASSERT_NE(find(out, "pg_database_size_bytes", {{"datname", "app"}}), nullptr);
  EXPECT_EQ(find(out, "pg_database_size_bytes", {{"datname", "app"}})->value, 7708007);
}

}  // namespace
}  // namespace covet::probes
