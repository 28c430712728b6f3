#include "probes/postgres_stats.h"

#include <array>
#include <charconv>
#include <cstdlib>

namespace covet::probes {
namespace {

// A cell as a number; nullopt for NULL or anything that is not one (never a guessed 0).
std::optional<double> number(const std::optional<std::string>& cell) {
  if (!cell || cell->empty()) return std::nullopt;
  const char* begin = cell->c_str();
  char* end = nullptr;
  const double value = std::strtod(begin, &end);
  if (end != begin + cell->size()) return std::nullopt;
  return value;
}

std::string text(const std::optional<std::string>& cell) { return cell ? *cell : std::string(); }

using Labels = std::vector<std::pair<std::string, std::string>>;

void add(std::vector<Reading>& out, std::string_view name, std::string_view help, Labels labels,
         std::optional<double> value, bool untyped = false) {
  if (!value) return;
  // postgres_exporter types the pg_stat_database totals as counters but keeps their names
  // without "_total"; a counter without the suffix fails `promtool check metrics`, so they
  // are exported as gauges. The name is what dashboards and alerts match, and rate()
  // works on either.
  out.push_back({std::string(name), std::string(help), std::move(labels), *value, false, untyped});
}

struct DatabaseColumn {
  std::string_view name;
  std::string_view help;
};
// In the order of the statement's columns after datid and datname.
constexpr std::array<DatabaseColumn, 7> kDatabaseColumns{{
    {"pg_stat_database_numbackends", "Number of backends currently connected to this database."},
    {"pg_stat_database_xact_commit",
     "Number of transactions in this database that have been committed."},
    {"pg_stat_database_xact_rollback",
     "Number of transactions in this database that have been rolled back."},
    {"pg_stat_database_blks_hit",
     "Number of times disk blocks were found already in the buffer cache."},
    {"pg_stat_database_blks_read", "Number of disk blocks read in this database."},
    {"pg_stat_database_deadlocks", "Number of deadlocks detected in this database."},
    {"pg_stat_database_temp_bytes",
     "Total amount of data written to temporary files by queries in this database."},
}};

void database_readings(std::span<const StatsRow> rows, std::vector<Reading>& out) {
  for (const StatsRow& row : rows) {
    if (row.size() != 2 + kDatabaseColumns.size()) continue;
    // datid 0 holds the shared catalogs (datname NULL); postgres_exporter reports it too.
    for (std::size_t i = 0; i < kDatabaseColumns.size(); ++i) {
      add(out, kDatabaseColumns[i].name, kDatabaseColumns[i].help,
          {{"datid", text(row[0])}, {"datname", text(row[1])}}, number(row[2 + i]));
    }
  }
}

void activity_readings(std::span<const StatsRow> rows, std::vector<Reading>& out) {
  for (const StatsRow& row : rows) {
    if (row.size() != 4) continue;
    // Untyped: as a gauge, its "_count" suffix fails the exposition lint (it reads as part
    // of a histogram).
    add(out, "pg_stat_activity_count", "Number of connections in this state.",
        {{"datname", text(row[0])}, {"state", text(row[1])}}, number(row[2]), true);
  }
  for (const StatsRow& row : rows) {
    if (row.size() != 4) continue;
    add(out, "pg_stat_activity_max_tx_duration",
        "Longest time in seconds a transaction in this state has been running.",
        {{"datname", text(row[0])}, {"state", text(row[1])}}, number(row[3]));
  }
}

void size_readings(std::span<const StatsRow> rows, std::vector<Reading>& out) {
  for (const StatsRow& row : rows) {
    if (row.size() != 2) continue;
    add(out, "pg_database_size_bytes", "Disk space used by the database.",
        {{"datname", text(row[0])}}, number(row[1]));
  }
}

void server_readings(std::span<const StatsRow> rows, std::vector<Reading>& out) {
  if (rows.size() != 1 || rows[0].size() != 3) return;
  const StatsRow& row = rows[0];
  add(out, "pg_settings_max_connections", "Sets the maximum number of concurrent connections.", {},
      number(row[0]));
  // NULL on a standby that has replayed nothing yet: no number is better than a wrong one.
  add(out, "pg_replication_lag_seconds",
      "Replication lag behind the primary in seconds (0 on a primary).", {}, number(row[1]));
  add(out, "pg_postmaster_start_time_seconds", "Time at which the server started (Unix time).", {},
      number(row[2]));
}

// The states postgres_exporter reports for every database, zero when no session is in
// them, so a series does not vanish when its count drops to zero.
constexpr std::string_view kActivitySql =
    "SELECT d.datname, s.state, count(a.pid),"
    " coalesce(max(extract(epoch FROM now() - a.xact_start)), 0)"
    " FROM pg_database d"
    " CROSS JOIN (VALUES ('active'), ('idle'), ('idle in transaction'),"
    " ('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) AS s(state)"
    " LEFT JOIN pg_stat_activity a ON a.datname = d.datname AND a.state = s.state"
    " GROUP BY d.datname, s.state";

// pg_database_size needs CONNECT on the database or pg_read_all_stats (which pg_monitor
// grants); databases the role may not size are left out instead of failing the statement.
constexpr std::string_view kSizeSql =
    "SELECT datname, pg_database_size(oid) FROM pg_database"
    " WHERE has_database_privilege(oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'MEMBER')";

constexpr std::string_view kServerSql =
    "SELECT current_setting('max_connections'),"
    " CASE WHEN pg_is_in_recovery()"
    " THEN greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) ELSE 0 END,"
    " extract(epoch FROM pg_postmaster_start_time())";

constexpr std::string_view kDatabaseSql =
    "SELECT datid, datname, numbackends, xact_commit, xact_rollback, blks_hit, blks_read,"
    " deadlocks, temp_bytes FROM pg_stat_database";

constexpr std::array<StatsStatement, 4> kStatements{{
    {"pg_stat_database", kDatabaseSql, &database_readings},
    {"pg_stat_activity", kActivitySql, &activity_readings},
    {"pg_database_size", kSizeSql, &size_readings},
    {"settings and replication", kServerSql, &server_readings},
}};

}  // namespace

std::span<const StatsStatement> postgres_stats_statements() { return kStatements; }

}  // namespace covet::probes
