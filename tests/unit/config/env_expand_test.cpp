#include "config/env_expand.h"

#include <gtest/gtest.h>

#include <map>

namespace covet::config {
namespace {

EnvLookup env_of(std::map<std::string, std::string, std::less<>> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

std::string expanded(std::string_view text, const EnvLookup& env) {
  const ExpandResult result = expand_env(text, env);
  EXPECT_TRUE(result.value.has_value()) << text << ": " << result.error;
  return result.value.value_or("<error>");
}

std::string expand_error(std::string_view text, const EnvLookup& env) {
  const ExpandResult result = expand_env(text, env);
  EXPECT_FALSE(result.value.has_value()) << text;
  return result.error;
}

TEST(ExpandEnv, TextWithoutReferencesIsUnchanged) {
  const EnvLookup env = env_of({});
  EXPECT_EQ(expanded("", env), "");
  EXPECT_EQ(expanded("plain text: [not yaml]", env), "plain text: [not yaml]");
}

TEST(ExpandEnv, Variable) {
  const EnvLookup env = env_of({{"HOST", "db.internal"}, {"PORT", "5432"}, {"_x1", "ok"}});
  EXPECT_EQ(expanded("${HOST}", env), "db.internal");
  EXPECT_EQ(expanded("${HOST}:${PORT}", env), "db.internal:5432");
  EXPECT_EQ(expanded("pre-${_x1}-post", env), "pre-ok-post");
}

TEST(ExpandEnv, DefaultWhenUnsetOrEmptyLikeTheShell) {
  const EnvLookup env = env_of({{"SET", "value"}, {"EMPTY", ""}});
  EXPECT_EQ(expanded("${SET:-fallback}", env), "value");
  EXPECT_EQ(expanded("${UNSET:-fallback}", env), "fallback");
  EXPECT_EQ(expanded("${EMPTY:-fallback}", env), "fallback");
  EXPECT_EQ(expanded("${UNSET:-}", env), "");
  EXPECT_EQ(expanded("${UNSET:-a:-b c}", env), "a:-b c");
  // Set but empty without a default is the empty string, not an error.
  EXPECT_EQ(expanded("[${EMPTY}]", env), "[]");
}

TEST(ExpandEnv, DollarEscapesAndLoneDollars) {
  const EnvLookup env = env_of({{"A", "x"}});
  EXPECT_EQ(expanded("$$", env), "$");
  EXPECT_EQ(expanded("$${A}", env), "${A}");
  EXPECT_EQ(expanded("$$$${A}", env), "$${A}");
  EXPECT_EQ(expanded("$$${A}", env), "$x");
  EXPECT_EQ(expanded("cost: 5$", env), "cost: 5$");
  EXPECT_EQ(expanded("^a$b$", env), "^a$b$");
  EXPECT_EQ(expanded("$A", env), "$A");  // only the braced form expands
}

TEST(ExpandEnv, ValueIsNotExpandedAgain) {
  const EnvLookup env = env_of({{"A", "${B}"}, {"B", "secret"}, {"D", "$$"}});
  EXPECT_EQ(expanded("${A}", env), "${B}");
  EXPECT_EQ(expanded("${D}", env), "$$");
}

TEST(ExpandEnv, UnsetWithoutDefaultNamesTheVariable) {
  EXPECT_EQ(expand_error("x${FOO}y", env_of({})),
            "environment variable FOO is not set (use ${FOO:-default} for a default)");
}

TEST(ExpandEnv, Unterminated) {
  const std::string expected = "unterminated \"${\": expected ${NAME} or ${NAME:-default}";
  EXPECT_EQ(expand_error("${FOO", env_of({{"FOO", "x"}})), expected);
  EXPECT_EQ(expand_error("abc ${", env_of({})), expected);
  EXPECT_EQ(expand_error("${A:-default", env_of({})), expected);
}

TEST(ExpandEnv, InvalidNames) {
  const EnvLookup env = env_of({});
  EXPECT_EQ(expand_error("${}", env),
            "invalid variable reference \"${}\": expected ${NAME} or ${NAME:-default}, NAME made "
            "of letters, digits and _");
  EXPECT_EQ(expand_error("${1ABC}", env),
            "invalid variable reference \"${1ABC}\": expected ${NAME} or ${NAME:-default}, NAME "
            "made of letters, digits and _");
  EXPECT_EQ(expand_error("${A-B}", env),
            "invalid variable reference \"${A-B}\": expected ${NAME} or ${NAME:-default}, NAME "
            "made of letters, digits and _");
  EXPECT_FALSE(expand_env("${A:=x}", env).value.has_value());
  EXPECT_FALSE(expand_env("${A:?x}", env).value.has_value());
  EXPECT_FALSE(expand_env("${ A }", env).value.has_value());
  EXPECT_EQ(expand_error("${A:-${B}}", env),
            "invalid variable reference \"${A:-${B}\": a default cannot contain another ${...}");
}

TEST(ExpandEnv, ErrorsNeverContainAValue) {
  const EnvLookup env = env_of({{"PASSWORD", "hunter2"}});
  for (std::string_view text : {"${PASSWORD}${MISSING}", "${PASSWORD} ${", "${PASSWORD}${1}"}) {
    const ExpandResult result = expand_env(text, env);
    ASSERT_FALSE(result.value.has_value()) << text;
    EXPECT_EQ(result.error.find("hunter2"), std::string::npos) << result.error;
  }
}

TEST(ExpandEnv, ValueMayContainAnything) {
  const EnvLookup env = env_of({{"YAML", "a: [b"}, {"NL", "line1\nline2"}});
  EXPECT_EQ(expanded("${YAML}", env), "a: [b");
  EXPECT_EQ(expanded("${NL}", env), "line1\nline2");
}

TEST(ExpandEnv, NoLookupMeansEverythingUnset) {
  EXPECT_EQ(expanded("${A:-d}", EnvLookup{}), "d");
  EXPECT_FALSE(expand_env("${A}", EnvLookup{}).value.has_value());
}

}  // namespace
}  // namespace covet::config
