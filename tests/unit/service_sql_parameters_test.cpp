// The PostgreSQL backend's text helpers: `?N` parameters rewritten to `$N` only where they are
// parameters, and database URLs shown without their password.
#include <gtest/gtest.h>

#include "service/database.h"
#include "service/sql_parameters.h"

namespace dumpscope::service {
namespace {

TEST(ServiceSqlParameters, NumberedParametersBecomeDollarOnes) {
    EXPECT_EQ(postgres_parameters("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?2) "
                                  "LIMIT ?10"),
              "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $2) LIMIT $10");
    EXPECT_EQ(postgres_parameters("VALUES (?1,?2)"), "VALUES ($1,$2)");
    EXPECT_EQ(postgres_parameters(""), "");
}

TEST(ServiceSqlParameters, LiteralsIdentifiersAndCommentsAreLeftAlone) {
    EXPECT_EQ(postgres_parameters("SELECT '?1', 'it''s ?2', ?3"), "SELECT '?1', 'it''s ?2', $3");
    EXPECT_EQ(postgres_parameters("SELECT \"col?1\" FROM t WHERE x = ?1"),
              "SELECT \"col?1\" FROM t WHERE x = $1");
    EXPECT_EQ(postgres_parameters("SELECT 1 -- why ?1\nWHERE y = ?2"),
              "SELECT 1 -- why ?1\nWHERE y = $2");
    EXPECT_EQ(postgres_parameters("SELECT /* ?1 */ ?1"), "SELECT /* ?1 */ $1");
    // A `?` without a number is not a parameter; an unterminated literal stays as it is.
    EXPECT_EQ(postgres_parameters("SELECT a ? b, ?"), "SELECT a ? b, ?");
    EXPECT_EQ(postgres_parameters("SELECT 'open ?1"), "SELECT 'open ?1");
}

TEST(ServiceSqlParameters, UrlsLoseTheirPassword) {
    EXPECT_EQ(redact_database_url("postgresql://user:secret@db.example:5432/crashes"),
              "postgresql://user:***@db.example:5432/crashes");
    EXPECT_EQ(redact_database_url("postgresql://user@db/crashes"), "postgresql://user@db/crashes");
    EXPECT_EQ(redact_database_url("postgres://db/crashes?sslmode=require&password=secret&x=1"),
              "postgres://db/crashes?sslmode=require&password=***&x=1");
    EXPECT_EQ(redact_database_url("postgresql://u:p%40ss@h/d?password=q"),
              "postgresql://u:***@h/d?password=***");
    EXPECT_EQ(redact_database_url("postgresql:///crashes?host=/run/pg"),
              "postgresql:///crashes?host=/run/pg");
}

TEST(ServiceSqlParameters, OnlyPostgresqlUrlsChooseThePostgresqlBackend) {
    EXPECT_TRUE(Database::is_postgresql_url("postgresql://h/d"));
    EXPECT_TRUE(Database::is_postgresql_url("postgres://h/d"));
    EXPECT_FALSE(Database::is_postgresql_url("/var/lib/dumpscope/crashes.db"));
    EXPECT_FALSE(Database::is_postgresql_url("postgresql.db"));
}

}  // namespace
}  // namespace dumpscope::service
