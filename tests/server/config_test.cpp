// Configuration: environment, flags over environment, definitions files.
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "pipeline_definition.h"
#include "server_config.h"
#include "temp_dir.h"

using namespace relais::server;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

ConfigOutcome load(std::map<std::string, std::string> env, std::vector<std::string> args,
                   Config* config, std::string* message) {
  args.insert(args.begin(), "relais-server");
  return load_config(env_of(std::move(env)), args, config, message);
}

}  // namespace

TEST(Config, DefaultsAreThoseOfTheDesign) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({}, {}, &c, &msg), ConfigOutcome::kRun) << msg;
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 8080);
  EXPECT_EQ(c.storage_type, "memory");
  EXPECT_EQ(c.redis_url, "localhost:6379");
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_TRUE(c.pipelines_file.empty());
  EXPECT_TRUE(c.api_token.empty());
  EXPECT_EQ(c.store_uri(), "memory://");
}

TEST(Config, ReadsEveryVariable) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({{"RELAIS_SERVER_HOST", "127.0.0.1"},
                  {"RELAIS_SERVER_PORT", "9000"},
                  {"RELAIS_STORAGE_TYPE", "redis"},
                  {"RELAIS_STORAGE_REDIS_URL", "db.example:6380"},
                  {"RELAIS_LOGGING_LEVEL", "debug"},
                  {"RELAIS_PIPELINES", "/etc/relais/pipelines.json"},
                  {"RELAIS_API_TOKEN", "s3cret"},
                  {"RELAIS_VIEWER_TOKEN", "view"},
                  {"RELAIS_ICE_SERVERS", "stun:stun.example:3478"}},
                 {}, &c, &msg),
            ConfigOutcome::kRun)
      << msg;
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 9000);
  EXPECT_EQ(c.store_uri(), "redis://db.example:6380");
  EXPECT_EQ(c.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.pipelines_file, "/etc/relais/pipelines.json");
  EXPECT_EQ(c.api_token, "s3cret");
  EXPECT_EQ(c.viewer_token, "view");
  EXPECT_EQ(c.ice_servers, "stun:stun.example:3478");
}

TEST(Config, FlagsOverrideTheEnvironment) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({{"RELAIS_SERVER_PORT", "9000"}, {"RELAIS_STORAGE_TYPE", "memory"}},
                 {"--port", "9100", "--storage-type=redis", "--redis-url",
                  "redis://10.0.0.5:6379/2", "--log-level", "error"},
                 &c, &msg),
            ConfigOutcome::kRun)
      << msg;
  EXPECT_EQ(c.port, 9100);
  EXPECT_EQ(c.store_uri(), "redis://10.0.0.5:6379/2");
  EXPECT_EQ(c.log_level, LogLevel::kError);
}

TEST(Config, BadValuesAreErrorsThatNameTheSetting) {
  Config c;
  std::string msg;
  EXPECT_EQ(load({{"RELAIS_SERVER_PORT", "80a"}}, {}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("RELAIS_SERVER_PORT"), std::string::npos) << msg;
  EXPECT_EQ(load({}, {"--port", "70000"}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("--port"), std::string::npos) << msg;
  EXPECT_EQ(load({{"RELAIS_STORAGE_TYPE", "disk"}}, {}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("memory"), std::string::npos) << msg;
  EXPECT_EQ(load({{"RELAIS_LOGGING_LEVEL", "loud"}}, {}, &c, &msg), ConfigOutcome::kError);
  EXPECT_EQ(load({}, {"--no-such-flag"}, &c, &msg), ConfigOutcome::kError);
  EXPECT_EQ(load({}, {"stray"}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("stray"), std::string::npos) << msg;
}

TEST(Config, HelpListsTheFlagsAndVersionPrintsIt) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({}, {"--help"}, &c, &msg), ConfigOutcome::kExit);
  for (const char* flag : {"--host", "--port", "--storage-type", "--redis-url", "--log-level",
                           "--pipelines", "--api-token", "RELAIS_API_TOKEN"}) {
    EXPECT_NE(msg.find(flag), std::string::npos) << flag;
  }
  ASSERT_EQ(load({}, {"--version"}, &c, &msg), ConfigOutcome::kExit);
  EXPECT_EQ(msg.rfind("relais-server ", 0), 0u) << msg;
}

TEST(PipelineDefinitions, ParsesTheDesignExample) {
  PipelineDefinition def;
  std::string err;
  ASSERT_TRUE(parse_definition(
      R"({"name": "lobby", "launch": "relaissrc uri=rtsp://camera.example/stream1 ! relaisstoresink stream=lobby", "restart": "on-failure"})",
      &def, &err))
      << err;
  EXPECT_EQ(def.name, "lobby");
  EXPECT_EQ(def.restart, RestartPolicy::kOnFailure);
  ASSERT_TRUE(parse_definition(R"({"name": "a", "launch": "fakesrc ! fakesink"})", &def, &err));
  EXPECT_EQ(def.restart, RestartPolicy::kAlways);
}

TEST(PipelineDefinitions, RefusesMalformedInputWithAReason) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "malformed JSON"},
      {"[]", "JSON object"},
      {R"({"launch": "fakesrc ! fakesink"})", "'name' is missing"},
      {R"({"name": 5, "launch": "fakesrc ! fakesink"})", "'name' must be a string"},
      {R"({"name": "a", "launch": ["x"]})", "'launch' must be a string"},
      {R"({"name": "a"})", "'launch'"},
      {R"({"name": "a", "launch": "fakesrc ! fakesink", "restart": "sometimes"})", "restart"},
      {R"({"name": "a", "launch": "fakesrc ! fakesink", "extra": 1})", "unknown field 'extra'"},
      {R"({"name": "A", "launch": "fakesrc ! fakesink"})", "a-z"},
      {R"({"name": "a/b", "launch": "fakesrc ! fakesink"})", "a-z"},
      {R"({"name": "..", "launch": "fakesrc ! fakesink"})", "a-z"},
      {R"({"name": "a\u0001b", "launch": "fakesrc ! fakesink"})", "a-z"},
      {R"({"name": "a\u0000b", "launch": "fakesrc ! fakesink"})", ""},
      {R"({"name": "", "launch": "fakesrc ! fakesink"})", "a-z"},
  };
  for (const auto& [json, reason] : cases) {
    PipelineDefinition def;
    std::string err;
    EXPECT_FALSE(parse_definition(json, &def, &err)) << json << " parsed as " << def.name;
    EXPECT_NE(err.find(reason), std::string::npos) << json << ": " << err;
    EXPECT_EQ(err.find('\x01'), std::string::npos);
  }
  PipelineDefinition def;
  std::string err;
  EXPECT_FALSE(parse_definition(
      R"({"name": ")" + std::string(65, 'a') + R"(", "launch": "fakesrc ! fakesink"})", &def,
      &err));
  EXPECT_TRUE(parse_definition(
      R"({"name": ")" + std::string(64, 'a') + R"(", "launch": "fakesrc ! fakesink"})", &def, &err))
      << err;
}

TEST(PipelineDefinitions, FileKeepsGoodEntriesAndReportsBadOnes) {
  relais::test::TempDir dir;
  std::string path = dir.file("pipelines.json");
  std::ofstream(path) << R"({"pipelines": [
      {"name": "one", "launch": "fakesrc ! fakesink"},
      {"name": "Bad Name", "launch": "fakesrc ! fakesink"},
      {"name": "one", "launch": "fakesrc ! fakesink"},
      {"name": "two", "launch": "fakesrc ! fakesink", "restart": "never"}]})";
  std::vector<PipelineDefinition> defs;
  std::vector<std::string> entry_errors;
  std::string err;
  ASSERT_TRUE(load_definitions_file(path, &defs, &entry_errors, &err)) << err;
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[0].name, "one");
  EXPECT_EQ(defs[1].name, "two");
  EXPECT_EQ(defs[1].restart, RestartPolicy::kNever);
  ASSERT_EQ(entry_errors.size(), 2u);
  EXPECT_NE(entry_errors[0].find("pipelines[1]"), std::string::npos) << entry_errors[0];
  EXPECT_NE(entry_errors[1].find("used twice"), std::string::npos) << entry_errors[1];
}

TEST(PipelineDefinitions, UnreadableOrWrongFilesFail) {
  relais::test::TempDir dir;
  std::vector<PipelineDefinition> defs;
  std::vector<std::string> entry_errors;
  std::string err;
  EXPECT_FALSE(load_definitions_file(dir.file("missing.json"), &defs, &entry_errors, &err));
  EXPECT_NE(err.find("cannot read"), std::string::npos) << err;
  std::ofstream(dir.file("list.json")) << R"([{"name": "a", "launch": "fakesrc ! fakesink"}])";
  EXPECT_FALSE(load_definitions_file(dir.file("list.json"), &defs, &entry_errors, &err));
  std::ofstream(dir.file("nolist.json")) << R"({"pipelines": {}})";
  EXPECT_FALSE(load_definitions_file(dir.file("nolist.json"), &defs, &entry_errors, &err));
  EXPECT_NE(err.find("array"), std::string::npos) << err;
}

TEST(PipelineDefinitions, EveryExampleFileParses) {
  std::string dir = std::string(g_getenv("RELAIS_SOURCE_DIR")) + "/examples/pipelines";
  GDir* d = g_dir_open(dir.c_str(), 0, nullptr);
  ASSERT_NE(d, nullptr);
  int files = 0;
  while (const char* name = g_dir_read_name(d)) {
    if (!g_str_has_suffix(name, ".json")) continue;
    ++files;
    std::vector<PipelineDefinition> defs;
    std::vector<std::string> entry_errors;
    std::string err;
    EXPECT_TRUE(load_definitions_file(dir + "/" + name, &defs, &entry_errors, &err)) << err;
    EXPECT_TRUE(entry_errors.empty()) << name;
    EXPECT_FALSE(defs.empty()) << name;
  }
  g_dir_close(d);
  EXPECT_GE(files, 3);
}

TEST(Config, ClusterSettings) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({}, {}, &c, &msg), ConfigOutcome::kRun) << msg;
  EXPECT_TRUE(c.node_id.empty());  // hostname:port, filled in once the port is bound
  EXPECT_TRUE(c.public_url.empty());
  EXPECT_EQ(c.heartbeat_ms, 2000);
  ASSERT_EQ(
      load({{"RELAIS_NODE_ID", "env-node"}, {"RELAIS_HEARTBEAT_MS", "500"}},
           {"--node-id", "flag-node", "--public-url", "https://relais.example:8443"}, &c, &msg),
      ConfigOutcome::kRun)
      << msg;
  EXPECT_EQ(c.node_id, "flag-node");
  EXPECT_EQ(c.public_url, "https://relais.example:8443");
  EXPECT_EQ(c.heartbeat_ms, 500);
  EXPECT_EQ(load({{"RELAIS_HEARTBEAT_MS", "soon"}}, {}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("RELAIS_HEARTBEAT_MS"), std::string::npos) << msg;
  EXPECT_EQ(load({}, {"--public-url", "relais.example"}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("--public-url"), std::string::npos) << msg;
  EXPECT_EQ(load({}, {"--node-id", ""}, &c, &msg), ConfigOutcome::kError);
}

TEST(Config, MaxViewers) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({}, {}, &c, &msg), ConfigOutcome::kRun) << msg;
  EXPECT_EQ(c.max_viewers, 0);
  ASSERT_EQ(load({{"RELAIS_MAX_VIEWERS", "50"}}, {}, &c, &msg), ConfigOutcome::kRun) << msg;
  EXPECT_EQ(c.max_viewers, 50);
  ASSERT_EQ(load({{"RELAIS_MAX_VIEWERS", "50"}}, {"--max-viewers", "0"}, &c, &msg),
            ConfigOutcome::kRun)
      << msg;
  EXPECT_EQ(c.max_viewers, 0);
  EXPECT_EQ(load({{"RELAIS_MAX_VIEWERS", "-1"}}, {}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("RELAIS_MAX_VIEWERS"), std::string::npos) << msg;
  EXPECT_EQ(load({}, {"--max-viewers", "many"}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("--max-viewers"), std::string::npos) << msg;
  ASSERT_EQ(load({}, {"--help"}, &c, &msg), ConfigOutcome::kExit);
  EXPECT_NE(msg.find("RELAIS_MAX_VIEWERS"), std::string::npos) << msg;
}

TEST(Config, LeaseTtl) {
  Config c;
  std::string msg;
  ASSERT_EQ(load({}, {}, &c, &msg), ConfigOutcome::kRun) << msg;
  EXPECT_EQ(c.lease_ttl_ms, 6000);
  ASSERT_EQ(load({{"RELAIS_LEASE_TTL_MS", "3000"}}, {}, &c, &msg), ConfigOutcome::kRun) << msg;
  EXPECT_EQ(c.lease_ttl_ms, 3000);
  ASSERT_EQ(load({{"RELAIS_LEASE_TTL_MS", "3000"}}, {"--lease-ttl-ms", "1500"}, &c, &msg),
            ConfigOutcome::kRun)
      << msg;
  EXPECT_EQ(c.lease_ttl_ms, 1500);
  EXPECT_EQ(load({{"RELAIS_LEASE_TTL_MS", "100"}}, {}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("RELAIS_LEASE_TTL_MS"), std::string::npos) << msg;
  EXPECT_EQ(load({}, {"--lease-ttl-ms", "long"}, &c, &msg), ConfigOutcome::kError);
  EXPECT_NE(msg.find("--lease-ttl-ms"), std::string::npos) << msg;
  ASSERT_EQ(load({}, {"--help"}, &c, &msg), ConfigOutcome::kExit);
  EXPECT_NE(msg.find("RELAIS_LEASE_TTL_MS"), std::string::npos) << msg;
}
