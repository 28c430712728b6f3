#include "config/postgres_dsn.h"

#include <gtest/gtest.h>

namespace covet::config {
namespace {

TEST(RedactDsn, UriUserInfoLosesThePassword) {
  EXPECT_EQ(redact_dsn("postgresql://app:s3cret@db:5432/app"), "postgresql://app@db:5432/app");
  EXPECT_EQ(redact_dsn("postgres://app:s3cret@db/app"), "postgres://app@db/app");
  // An empty password, and a password holding ':' (only the first ':' separates).
  EXPECT_EQ(redact_dsn("postgresql://app:@db/app"), "postgresql://app@db/app");
  EXPECT_EQ(redact_dsn("postgresql://app:a:b@db/app"), "postgresql://app@db/app");
}

TEST(RedactDsn, UriWithoutPasswordIsUnchanged) {
  for (const char* dsn : {"postgresql://app@127.0.0.1:5432/app", "postgresql://db/app",
                          "postgresql://", "postgresql:///app?host=/run/postgresql",
                          "postgresql://db/app?sslmode=require&connect_timeout=5"}) {
    EXPECT_EQ(redact_dsn(dsn), dsn);
  }
}

TEST(RedactDsn, UriAtSignAfterTheHostIsNotUserInfo) {
  // libpq ends the user info at the first '/'; an '@' in the path is the database name's.
  EXPECT_EQ(redact_dsn("postgresql://db/a@b"), "postgresql://db/a@b");
}

TEST(RedactDsn, UriQueryPasswordParametersAreDropped) {
  EXPECT_EQ(redact_dsn("postgresql://db/app?password=s3cret"), "postgresql://db/app");
  EXPECT_EQ(redact_dsn("postgresql://db/app?sslmode=require&password=s3cret&user=app"),
            "postgresql://db/app?sslmode=require&user=app");
  EXPECT_EQ(redact_dsn("postgresql://db/app?password=s3cret&sslpassword=k3y&user=app"),
            "postgresql://db/app?user=app");
}

TEST(RedactDsn, KeyValuePasswordIsDropped) {
  EXPECT_EQ(redact_dsn("host=db user=app password=s3cret dbname=app"),
            "host=db user=app dbname=app");
  EXPECT_EQ(redact_dsn("password=s3cret host=db"), "host=db");
  EXPECT_EQ(redact_dsn("host=db sslpassword=k3y"), "host=db");
  // Spaces around '=' are allowed by libpq.
  EXPECT_EQ(redact_dsn("host = db password = s3cret  port=5432"), "host = db port=5432");
}

TEST(RedactDsn, KeyValueQuotedPasswordIsDroppedWhole) {
  EXPECT_EQ(redact_dsn("host=db password='s3 cr\\'et' user=app"), "host=db user=app");
  EXPECT_EQ(redact_dsn("host=db password='' user=app"), "host=db user=app");
  EXPECT_EQ(redact_dsn("host=db password=a\\ b user=app"), "host=db user=app");
}

TEST(RedactDsn, KeyValueDbnameHoldingAConnectionStringIsRedactedInside) {
  EXPECT_EQ(redact_dsn("dbname=postgresql://app:s3cret@db/app"),
            "dbname='postgresql://app@db/app'");
  EXPECT_EQ(redact_dsn("dbname='host=db password=s3cret'"), "dbname='host=db'");
}

TEST(RedactDsn, MalformedRestIsDropped) {
  // After a part libpq would reject, nothing tells a secret from the rest.
  EXPECT_EQ(redact_dsn("host=db password='s3cret"), "host=db");
  EXPECT_EQ(redact_dsn("host=db s3cret"), "host=db");
  EXPECT_EQ(redact_dsn(""), "");
}

TEST(RedactDsn, NoPasswordKeyValueIsUnchanged) {
  EXPECT_EQ(redact_dsn("host=127.0.0.1 port=5432 dbname=app sslmode=require"),
            "host=127.0.0.1 port=5432 dbname=app sslmode=require");
  // passfile is a path, not a secret.
  EXPECT_EQ(redact_dsn("host=db passfile=/run/pgpass"), "host=db passfile=/run/pgpass");
}

}  // namespace
}  // namespace covet::config
