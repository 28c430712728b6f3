// The INFO parser and the readings it yields, against INFO replies of a real Redis 7.0
// (tests/fixtures/redis/) and hand-made edge cases.

#include "probes/redis_info.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace covet::probes {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(COVET_FIXTURES_DIR) + "/redis/" + name, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "name{k=v,...}" -> reading, for lookups.
std::map<std::string, Reading> by_key(const std::vector<Reading>& readings) {
  std::map<std::string, Reading> out;
  for (const Reading& reading : readings) {
    std::string key = reading.name;
    for (const auto& [name, value] : reading.labels) key += "," + name + "=" + value;
    EXPECT_TRUE(out.emplace(key, reading).second) << "duplicate series " << key;
  }
  return out;
}

TEST(ParseRedisInfo, RealMasterReply) {
  const std::string text = fixture("info_master_7.0.txt");
  ASSERT_FALSE(text.empty());
  ASSERT_NE(text.find("\r\n"), std::string::npos);  // as the server sends it
  const RedisInfo info = parse_redis_info(text);
  EXPECT_EQ(info.get("redis_version"), "7.0.15");
  EXPECT_EQ(info.get("role"), "master");
  EXPECT_EQ(info.get("maxclients"), "10000");
  // Values keep their own colons.
  EXPECT_TRUE(info.get("executable").value_or("").ends_with("/redis-server"))
      << info.get("executable").value_or("");
  EXPECT_EQ(info.get("slave0"), "ip=127.0.0.1,port=6392,state=wait_bgsave,offset=0,lag=0");
  EXPECT_FALSE(info.get("# Server"));
  EXPECT_FALSE(info.get("no_such_field"));

  const auto readings = by_key(redis_info_readings(info));
  const Reading& instance = readings.at("redis_instance_info,role=master,redis_version=7.0.15");
  EXPECT_EQ(instance.value, 1);
  EXPECT_FALSE(instance.counter);
  EXPECT_EQ(readings.at("redis_uptime_in_seconds").value, 169);
  EXPECT_EQ(readings.at("redis_connected_clients").value, 1);
  EXPECT_EQ(readings.at("redis_blocked_clients").value, 0);
  EXPECT_EQ(readings.at("redis_config_maxclients").value, 10000);
  EXPECT_EQ(readings.at("redis_memory_used_bytes").value, 1112840);
  EXPECT_EQ(readings.at("redis_memory_max_bytes").value, 0);
  EXPECT_DOUBLE_EQ(readings.at("redis_mem_fragmentation_ratio").value, 6.73);
  EXPECT_EQ(readings.at("redis_commands_processed_total").value, 51);
  EXPECT_TRUE(readings.at("redis_commands_processed_total").counter);
  EXPECT_TRUE(readings.at("redis_rejected_connections_total").counter);
  EXPECT_TRUE(readings.at("redis_keyspace_hits_total").counter);
  EXPECT_TRUE(readings.at("redis_keyspace_misses_total").counter);
  EXPECT_TRUE(readings.at("redis_evicted_keys_total").counter);
  EXPECT_EQ(readings.at("redis_connected_slaves").value, 1);
  EXPECT_FALSE(readings.at("redis_connected_slaves").counter);
  for (const auto& [key, reading] : readings) {
    EXPECT_FALSE(reading.help.empty()) << key;
    EXPECT_EQ(reading.counter, reading.name.ends_with("_total")) << key;
  }
}

TEST(ParseRedisInfo, RealReplicaReply) {
  const std::string text = fixture("info_replica_7.0.txt");
  const auto readings = by_key(redis_info_readings(parse_redis_info(text)));
  EXPECT_EQ(readings.count("redis_instance_info,role=slave,redis_version=7.0.15"), 1u);
  EXPECT_EQ(readings.at("redis_connected_slaves").value, 0);
}

TEST(ParseRedisInfo, KeyspaceLinesBecomeDbKeys) {
  const auto readings = by_key(redis_info_readings(
      parse_redis_info("# Keyspace\r\ndb0:keys=12,expires=1,avg_ttl=0\r\ndb3:expires=0,keys=7\r\n"
                       "dbx:keys=1\r\ndb:keys=2\r\ndb5:keys=oops\r\ndb0:keys=99\r\n")));
  EXPECT_EQ(readings.at("redis_db_keys,db=db0").value, 12);  // the first wins
  EXPECT_EQ(readings.at("redis_db_keys,db=db3").value, 7);
  EXPECT_EQ(readings.size(), 2u);
}

TEST(ParseRedisInfo, MissingAndMalformedFieldsDropOnlyThemselves) {
  const auto readings = by_key(redis_info_readings(
      parse_redis_info("uptime_in_seconds:12x\nconnected_clients:3\nused_memory:\n"
                       "mem_fragmentation_ratio:nan\nno colon here\n:empty key\n"
                       "keyspace_hits:-1\n\n\n")));
  EXPECT_EQ(readings.size(), 2u);
  EXPECT_EQ(readings.at("redis_connected_clients").value, 3);
  EXPECT_EQ(readings.at("redis_keyspace_hits_total").value, -1);
  EXPECT_TRUE(redis_info_readings(parse_redis_info("")).empty());
}

TEST(ParseRedisNumber, StrictNumbers) {
  EXPECT_EQ(parse_redis_number("1089248"), 1089248.0);
  EXPECT_EQ(parse_redis_number("6.82"), 6.82);
  EXPECT_FALSE(parse_redis_number(""));
  EXPECT_FALSE(parse_redis_number("1 "));
  EXPECT_FALSE(parse_redis_number("inf"));
  EXPECT_FALSE(parse_redis_number("nan"));
  EXPECT_FALSE(parse_redis_number("0x10"));
}

TEST(ParseKeyspaceKeys, ByName) {
  EXPECT_EQ(parse_keyspace_keys("keys=1,expires=0,avg_ttl=0"), 1.0);
  EXPECT_EQ(parse_keyspace_keys("expires=0,keys=5"), 5.0);
  EXPECT_FALSE(parse_keyspace_keys("expires=0"));
  EXPECT_FALSE(parse_keyspace_keys(""));
  EXPECT_FALSE(parse_keyspace_keys(","));
}

}  // namespace
}  // namespace covet::probes
