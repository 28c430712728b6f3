#pragma once
// PostgreSQL connection strings as users write them: a libpq URI
// (postgresql://user:secret@host:5432/db?sslmode=require) or key=value pairs
// (host=db user=app password='s e c'). The printed form of a DSN — effective config, logs,
// /health — always goes through redact_dsn.

#include <string>
#include <string_view>

namespace covet::config {

// `dsn` with every password removed: the ":secret" of a URI's user info, `password` and
// `sslpassword` query parameters and key=value pairs (quoted values included), and the same
// inside a `dbname` that is itself a connection string (libpq expands those). What follows
// a malformed part is dropped, since it cannot be told apart from a secret. Pure; never
// fails.
std::string redact_dsn(std::string_view dsn);

// True for "postgresql://..." and "postgres://...", libpq's URI forms.
bool is_postgres_uri(std::string_view dsn);

}  // namespace covet::config
