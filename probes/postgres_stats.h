#pragma once
// The database metrics the PostgreSQL probe collects on its own interval (never per scrape):
// the statements it sends and how their rows become readings. Names, label names and
// meanings follow postgres_exporter, so its dashboards and alerts work unchanged.
//
// Each statement is sent on its own, so one the probe's role may not run (a missing
// privilege, an old server) costs only its own metrics. Pure: no libpq here, which keeps
// the row handling testable without a server.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probes/probe.h"

namespace covet::probes {

// One result set: rows of cells, std::nullopt for SQL NULL, in the statement's column order.
using StatsRow = std::vector<std::optional<std::string>>;

struct StatsStatement {
  std::string_view what;  // names the metric group in a degraded-metrics note: "pg_stat_database"
  std::string_view sql;
  // Appends the readings for `rows`. Rows of the wrong shape are skipped, not guessed at.
  void (*to_readings)(std::span<const StatsRow> rows, std::vector<Reading>& out);
};

// pg_stat_database, pg_stat_activity, pg_database_size, settings and replication, in the
// order they are sent.
std::span<const StatsStatement> postgres_stats_statements();

}  // namespace covet::probes
