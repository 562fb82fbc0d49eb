#include "connectors/app/settings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "operators/intake/pseudonymiser.h"

namespace mozaiek {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::StartsWith;

const std::string kSourceDir = MOZAIEK_SOURCE_DIR;

// Sets (or unsets) an environment variable for one test and restores it.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class SettingsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mozaiek-settings-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    // Key files must be the owner's alone (configs may be too).
    std::filesystem::permissions(p, std::filesystem::perms::owner_read |
                                        std::filesystem::perms::owner_write);
    return p.string();
  }

  static std::string shipped_text() {
    std::ifstream in(kSourceDir + "/config/mozaiek.yaml");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The shipped config with `extra` appended (later keys are new sections).
  std::string shipped_plus(const std::string& extra) {
    return write("config.yaml", shipped_text() + extra);
  }
  // The shipped config with the first `from` replaced by `to`.
  std::string shipped_with(const std::string& from, const std::string& to) {
    std::string text = shipped_text();
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    return write("config.yaml", text);
  }

  std::vector<std::string> load(const std::string& path) {
    std::vector<std::string> errors;
    ok_ = load_settings(path, settings_, errors);
    return errors;
  }

  std::filesystem::path dir_;
  Settings settings_;
  bool ok_ = false;
};

TEST_F(SettingsTest, ShippedConfigLoads) {
  const std::string path = kSourceDir + "/config/mozaiek.yaml";
  EXPECT_THAT(load(path), IsEmpty());
  ASSERT_TRUE(ok_);
  EXPECT_EQ(settings_.brokers, "embedded");
  EXPECT_EQ(settings_.http_listen, "127.0.0.1:8080");
  EXPECT_EQ(settings_.topics.signals_prefix, "signals.");
  EXPECT_EQ(settings_.topics.alerts, "mozaiek.alerts");
  EXPECT_EQ(settings_.topics.alerts_care, "mozaiek.alerts.care");
  EXPECT_EQ(settings_.commit_interval_ms, 1000);
  EXPECT_EQ(settings_.operators.sources.size(), 12u);
  EXPECT_EQ(settings_.operators.catalogue.size(), 40u);
  EXPECT_EQ(settings_.config_path, path);
  EXPECT_TRUE(settings_.pseudonym_key_file.empty());
}

TEST_F(SettingsTest, ShippedConfigConfiguresNoIdentitySoRunRefusesToStart) {
  EXPECT_THAT(load(kSourceDir + "/config/mozaiek.yaml"), IsEmpty());
  EXPECT_FALSE(settings_.auth.any_identity());
  EXPECT_EQ(settings_.auth.oidc.audience, "mozaiek");
  EXPECT_EQ(settings_.auth.oidc.roles_claim, "roles");
  EXPECT_EQ(settings_.auth.oidc.console_client_id, "mozaiek-console");
}

TEST_F(SettingsTest, AuthSectionIsParsed) {
  std::string text = shipped_text();
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"      issuer: \"\"", "      issuer: https://login.example.nl/realms/tmm"},
           {"      role_map: {}", "      role_map:\n        /politie/tfmm: analyst\n        "
                                  "/beheer: [operator, metrics]"},
           {"      principals: []", "      principals:\n        - {subject: /CN=scraper, name: "
                                    "scraper, roles: [metrics]}"}}) {
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
  }
  EXPECT_THAT(load(write("config.yaml", text)), IsEmpty());
  ASSERT_TRUE(ok_);
  const auth::AuthSettings& a = settings_.auth;
  EXPECT_EQ(a.oidc.issuer, "https://login.example.nl/realms/tmm");
  EXPECT_EQ(a.oidc.role_map.at("/politie/tfmm"), std::vector<std::string>{"analyst"});
  EXPECT_EQ(a.oidc.role_map.at("/beheer"), (std::vector<std::string>{"operator", "metrics"}));
  ASSERT_EQ(a.mtls_principals.size(), 1u);
  EXPECT_EQ(a.mtls_principals[0].subject, "/CN=scraper");
  EXPECT_EQ(a.mtls_principals[0].roles, std::vector<std::string>{"metrics"});
}

TEST_F(SettingsTest, BadAuthValuesNameTheirPath) {
  YAML::Node root = YAML::LoadFile(kSourceDir + "/config/mozaiek.yaml");
  root["service"]["auth"]["oidc"]["issuer"] = "http://login.example.nl";
  root["service"]["auth"]["oidc"]["audience"] = "";
  root["service"]["auth"]["oidc"]["roles_claim"] = "realm_access.";
  root["service"]["auth"]["oidc"]["clock_skew_seconds"] = 3600;
  root["service"]["auth"]["oidc"]["role_map"]["/politie"] = "analist";
  root["service"]["auth"]["oidc"]["isuer"] = "x";
  YAML::Node p1;
  p1["subject"] = "/CN=a";
  p1["name"] = "a";
  p1["roles"].push_back("metric");
  YAML::Node p2;
  p2["subject"] = "/CN=b";
  root["service"]["auth"]["mtls"]["principals"].push_back(p1);
  root["service"]["auth"]["mtls"]["principals"].push_back(p2);
  YAML::Emitter out;
  out << root;
  const auto bad = load(write("bad.yaml", out.c_str()));
  EXPECT_THAT(bad, Contains(StartsWith("service.auth.oidc.issuer: 'http://login.example.nl' "
                                       "must use https")));
  EXPECT_THAT(bad, Contains(StartsWith("service.auth.oidc.audience: ")));
  EXPECT_THAT(bad, Contains(StartsWith("service.auth.oidc.roles_claim: must be a claim name")));
  EXPECT_THAT(bad, Contains(StartsWith("service.auth.oidc.clock_skew_seconds: must be")));
  EXPECT_THAT(bad,
              Contains(StartsWith(
                  "service.auth.oidc.role_map[\"/politie\"]: 'analist' is not a mozaiek role")));
  EXPECT_THAT(bad, Contains(StartsWith("service.auth.oidc.isuer: unknown key")));
  EXPECT_THAT(bad,
              Contains(StartsWith(
                  "service.auth.mtls.principals[0].roles[0]: 'metric' is not a mozaiek role")));
  EXPECT_THAT(bad, Contains(StartsWith("service.auth.mtls.principals[1].name: required")));
  EXPECT_FALSE(ok_);
}

TEST_F(SettingsTest, ProductionExampleConfiguresOidcAndAClientCertificate) {
  ScopedEnv user("KAFKA_SASL_USERNAME", "mozaiek");
  ScopedEnv password("KAFKA_SASL_PASSWORD", "s3cret");
  EXPECT_THAT(load(kSourceDir + "/config/examples/production.yaml"), IsEmpty());
  EXPECT_EQ(settings_.auth.oidc.roles_claim, "realm_access.roles");
  EXPECT_EQ(settings_.auth.oidc.role_map.at("tmm-analist"), std::vector<std::string>{"analyst"});
  ASSERT_EQ(settings_.auth.mtls_principals.size(), 1u);
  EXPECT_EQ(settings_.auth.mtls_principals[0].name, "prometheus");
}

TEST_F(SettingsTest, ProductionExampleLoadsWithItsSecretsFromTheEnvironment) {
  ScopedEnv user("KAFKA_SASL_USERNAME", "mozaiek");
  ScopedEnv password("KAFKA_SASL_PASSWORD", "s3cret");
  EXPECT_THAT(load(kSourceDir + "/config/examples/production.yaml"), IsEmpty());
  EXPECT_NE(settings_.brokers, "embedded");
  EXPECT_THAT(settings_.kafka_properties, Contains(Pair("sasl.password", "s3cret")));
  EXPECT_FALSE(settings_.pseudonym_key_file.empty());
  EXPECT_EQ(settings_.operators.catalogue.size(), 40u);
}

TEST_F(SettingsTest, MissingFileIsAnError) {
  EXPECT_THAT(load((dir_ / "absent.yaml").string()),
              Contains(StartsWith("cannot read the config file")));
  EXPECT_FALSE(ok_);
}

TEST_F(SettingsTest, SyntaxErrorGivesLineAndColumn) {
  EXPECT_THAT(load(write("bad.yaml", "service:\n  http_listen: [127.0.0.1\n")),
              Contains(StartsWith("YAML syntax error at line ")));
  EXPECT_THAT(load(write("empty.yaml", "# nothing\n")), Contains(StartsWith("the file is empty")));
}

TEST_F(SettingsTest, UnknownTopLevelSectionSuggestsTheRightOne) {
  EXPECT_THAT(load(shipped_plus("servce:\n  log_level: debug\n")),
              Contains(StartsWith("servce: unknown key (did you mean 'service'?)")));
}

TEST_F(SettingsTest, BadServiceAndKafkaValuesNameTheirPath) {
  YAML::Node root = YAML::LoadFile(kSourceDir + "/config/mozaiek.yaml");
  root["service"]["http_listen"] = "localhost";
  root["service"]["log_level"] = "verbose";
  root["kafka"]["partitions"] = 0;
  root["kafka"]["commit_interval_ms"] = -5;
  root["kafka"]["brokers"] = "kafka-1:9092,kafka-2";
  root["kafka"]["topics"]["alerts"] = "signals.alerts";
  root["kafka"]["properties"]["group.id"] = "x";
  YAML::Emitter out;
  out << root;
  const auto bad = load(write("bad.yaml", out.c_str()));
  EXPECT_THAT(bad, Contains(StartsWith("service.http_listen: 'localhost' must be host:port")));
  EXPECT_THAT(bad, Contains(StartsWith("service.log_level: 'verbose' is not one of")));
  EXPECT_THAT(bad, Contains(StartsWith("kafka.partitions: must be >= 1 and <= 1024")));
  EXPECT_THAT(bad, Contains(StartsWith("kafka.commit_interval_ms: must be >= 0 and <= 600000")));
  EXPECT_THAT(bad, Contains(StartsWith("kafka.brokers: 'kafka-2' is not host:port")));
  EXPECT_THAT(bad, Contains(StartsWith("kafka.topics.alerts: 'signals.alerts' starts with "
                                       "kafka.topics.signals_prefix")));
  EXPECT_THAT(bad, Contains(StartsWith("kafka.properties.group.id: set kafka.group_id instead")));
  EXPECT_FALSE(ok_);
}

TEST_F(SettingsTest, OperatorErrorsAreReportedThroughSettings) {
  EXPECT_THAT(load(write("c.yaml", "service: {}\nsources: {coa: {}}\n")),
              Contains(StartsWith("catalogue: required")));
}

TEST_F(SettingsTest, PropertyValuesExpandEnvironmentVariables) {
  ScopedEnv set("MOZAIEK_TEST_SECRET", "hunter2");
  ScopedEnv unset("MOZAIEK_TEST_UNSET", std::nullopt);
  const std::string empty = "  properties: {}\n";
  EXPECT_THAT(load(shipped_with(empty, "  properties:\n"
                                       "    sasl.password: \"${MOZAIEK_TEST_SECRET}\"\n")),
              IsEmpty());
  EXPECT_THAT(settings_.kafka_properties, Contains(Pair("sasl.password", "hunter2")));
  EXPECT_THAT(load(shipped_with(empty, "  properties:\n"
                                       "    ssl.key.password: \"pre-${MOZAIEK_TEST_UNSET}\"\n")),
              Contains(StartsWith("kafka.properties.ssl.key.password: environment variable "
                                  "MOZAIEK_TEST_UNSET is not set")));
}

// ---- the HTTP edge ----

TEST_F(SettingsTest, TlsLimitsHostsAndDemoIdentityAreRead) {
  EXPECT_THAT(load(shipped_with("  http_listen: 127.0.0.1:8080\n",
                                "  http_listen: 127.0.0.1:8080\n"
                                "  tls:\n"
                                "    certificate: tls/server.crt\n"
                                "    key: /etc/mozaiek/server.key\n"
                                "    client_ca: tls/ca.crt\n"
                                "    require_client_certificate: true\n"
                                "  http_limits:\n"
                                "    max_body_bytes: 65536\n"
                                "    max_streams_per_principal: 1\n"
                                "  allowed_hosts: [mozaiek.example.nl]\n"
                                "  allow_plain_http: true\n"
                                "  demo_identity: {name: laptop, roles: [analyst, metrics]}\n")),
              IsEmpty());
  ASSERT_TRUE(ok_);
  // Relative paths are relative to the config file.
  EXPECT_EQ(settings_.tls.certificate, (dir_ / "tls/server.crt").string());
  EXPECT_EQ(settings_.tls.key, "/etc/mozaiek/server.key");
  EXPECT_EQ(settings_.tls.client_ca, (dir_ / "tls/ca.crt").string());
  EXPECT_TRUE(settings_.tls.require_client_certificate);
  EXPECT_EQ(settings_.http_limits.max_body_bytes, 65536);
  EXPECT_EQ(settings_.http_limits.max_streams_per_principal, 1);
  EXPECT_EQ(settings_.http_limits.max_connections, HttpLimits{}.max_connections);
  EXPECT_EQ(settings_.allowed_hosts, std::vector<std::string>{"mozaiek.example.nl"});
  EXPECT_TRUE(settings_.allow_plain_http);
  EXPECT_EQ(settings_.demo_identity.name, "laptop");
  EXPECT_EQ(settings_.demo_identity.roles, (std::vector<std::string>{"analyst", "metrics"}));
}

TEST_F(SettingsTest, ShippedConfigServesLoopbackWithoutTlsOrDemoIdentity) {
  EXPECT_THAT(load(kSourceDir + "/config/mozaiek.yaml"), IsEmpty());
  EXPECT_FALSE(settings_.tls.enabled());
  EXPECT_FALSE(settings_.allow_plain_http);
  EXPECT_TRUE(settings_.demo_identity.name.empty());
  EXPECT_TRUE(is_loopback_listen(settings_.http_listen));
}

TEST_F(SettingsTest, BadEdgeSettingsNameTheirKeys) {
  const auto bad = load(shipped_with("  http_listen: 127.0.0.1:8080\n",
                                     "  http_listen: 127.0.0.1:8080\n"
                                     "  tls:\n"
                                     "    certificate: server.crt\n"
                                     "    cert_chain: x\n"
                                     "  http_limits:\n"
                                     "    max_body_bytes: 10\n"
                                     "  demo_identity: {name: x, roles: [admin]}\n"));
  EXPECT_THAT(bad, Contains(HasSubstr("service.tls.cert_chain")));
  EXPECT_THAT(bad, Contains(StartsWith("service.tls.key: required")));
  EXPECT_THAT(bad, Contains(StartsWith("service.http_limits.max_body_bytes")));
  EXPECT_THAT(bad, Contains(AllOf(StartsWith("service.demo_identity.roles"), HasSubstr("admin"))));
}

TEST(LoopbackListenTest, KnowsLoopbackAddresses) {
  EXPECT_TRUE(is_loopback_listen("127.0.0.1:8080"));
  EXPECT_TRUE(is_loopback_listen("127.3.2.1:0"));
  EXPECT_TRUE(is_loopback_listen("[::1]:8080"));
  EXPECT_TRUE(is_loopback_listen("localhost:8080"));
  EXPECT_FALSE(is_loopback_listen("0.0.0.0:8080"));
  EXPECT_FALSE(is_loopback_listen(":8080"));
  EXPECT_FALSE(is_loopback_listen("10.1.2.3:8080"));
}

TEST_F(SettingsTest, ReferenceDocumentsEverySection) {
  const std::string md = settings_reference_markdown();
  for (const char* section :
       {"## `(top level)`", "## `service`", "## `kafka`", "## `kafka.topics`", "## `privacy`",
        "## `catalogue`", "## `sources.<name>`", "## `rules.<subject type>`", "## `limits`",
        "## `metrics`", "## `service.tls`", "## `service.http_limits`",
        "## `service.demo_identity`"}) {
    EXPECT_THAT(md, HasSubstr(section));
  }
  EXPECT_THAT(md, HasSubstr("| `pseudonym_key_file` |"));
  EXPECT_THAT(md, HasSubstr("| `retention_days` |"));
}

// ---- pseudonym key ----

class PseudonymKeyTest : public SettingsTest {
 protected:
  void SetUp() override {
    SettingsTest::SetUp();
    settings_.config_path = (dir_ / "mozaiek.yaml").string();
  }
  ScopedEnv no_env_{kPseudonymKeyEnv, std::nullopt};
};

TEST_F(PseudonymKeyTest, EnvironmentWinsOverFile) {
  write("key", "file-key-0123456789abcdef\n");
  settings_.pseudonym_key_file = "key";
  ScopedEnv env(kPseudonymKeyEnv, "env-key-0123456789abcdef");
  std::string key;
  ASSERT_TRUE(load_pseudonym_key(settings_, false, key).is_ok());
  EXPECT_EQ(key, "env-key-0123456789abcdef");
}

TEST_F(PseudonymKeyTest, KeyFilesOpenToGroupOrOthersAreRefusedNamingTheFile) {
  ScopedEnv no_dlq_env(kDlqKeyEnv, std::nullopt);
  const std::string pseudonym = write("key", "file-key-0123456789abcdef\n");
  const std::string dlq = write("dlq.key", std::string(64, 'a') + "\n");
  settings_.pseudonym_key_file = "key";
  settings_.dlq_key_file = "dlq.key";
  std::string key;
  std::optional<DlqKey> dlq_key;
  ASSERT_TRUE(load_pseudonym_key(settings_, false, key).is_ok());
  ASSERT_TRUE(load_dlq_key(settings_, dlq_key).is_ok());
  ASSERT_TRUE(dlq_key.has_value());
  using std::filesystem::perms;
  for (perms extra : {perms::group_read, perms::others_read, perms::group_write}) {
    std::filesystem::permissions(pseudonym, perms::owner_read | perms::owner_write | extra);
    std::filesystem::permissions(dlq, perms::owner_read | extra);
    Status s = load_pseudonym_key(settings_, false, key);
    ASSERT_FALSE(s.is_ok());
    EXPECT_THAT(s.message(), StartsWith("privacy.pseudonym_key_file: '" + pseudonym + "'"));
    EXPECT_THAT(s.message(), HasSubstr("chmod 600"));
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("file-key")));
    s = load_dlq_key(settings_, dlq_key);
    ASSERT_FALSE(s.is_ok());
    EXPECT_THAT(s.message(), StartsWith("privacy.dlq_key_file: '" + dlq + "'"));
  }
  std::filesystem::permissions(pseudonym, perms::owner_read);
  EXPECT_TRUE(load_pseudonym_key(settings_, false, key).is_ok()) << "0400 is private too";
}

TEST_F(PseudonymKeyTest, FileRelativeToTheConfigWinsOverDemoKey) {
  write("key", "file-key-0123456789abcdef\n");
  settings_.pseudonym_key_file = "key";
  std::string key;
  ASSERT_TRUE(load_pseudonym_key(settings_, true, key).is_ok());
  EXPECT_EQ(key, "file-key-0123456789abcdef");  // trailing newline stripped
}

TEST_F(PseudonymKeyTest, DemoFallsBackToTheWellKnownKey) {
  std::string key;
  ASSERT_TRUE(load_pseudonym_key(settings_, true, key).is_ok());
  EXPECT_EQ(key, kDemoPseudonymKey);
}

TEST_F(PseudonymKeyTest, MissingKeyOutsideDemoSaysHowToProvideOne) {
  std::string key;
  const Status s = load_pseudonym_key(settings_, false, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr("MOZAIEK_PSEUDONYM_KEY"));
  EXPECT_THAT(s.message(), HasSubstr("privacy.pseudonym_key_file"));
  EXPECT_TRUE(key.empty());
}

TEST_F(PseudonymKeyTest, ShortOrUnreadableKeysAreErrorsWithoutEchoingTheKey) {
  std::string key;
  {
    ScopedEnv env(kPseudonymKeyEnv, "short-secret");
    const Status s = load_pseudonym_key(settings_, true, key);
    ASSERT_FALSE(s.is_ok());
    EXPECT_THAT(s.message(), HasSubstr("at least 16 bytes"));
    EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("short-secret")));
  }
  write("short", "tiny-secret\n");
  settings_.pseudonym_key_file = "short";
  Status s = load_pseudonym_key(settings_, true, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("tiny-secret")));
  settings_.pseudonym_key_file = "absent";
  s = load_pseudonym_key(settings_, true, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), StartsWith("privacy.pseudonym_key_file: cannot read"));
}

// ---- DLQ key, retention, partner chain topics ----

class DlqKeyTest : public SettingsTest {
 protected:
  void SetUp() override {
    SettingsTest::SetUp();
    settings_.config_path = (dir_ / "mozaiek.yaml").string();
  }
  ScopedEnv no_env_{kDlqKeyEnv, std::nullopt};
};

TEST_F(DlqKeyTest, NoKeyConfiguredMeansNoSealing) {
  std::optional<DlqKey> key;
  ASSERT_TRUE(load_dlq_key(settings_, key).is_ok());
  EXPECT_FALSE(key);
}

TEST_F(DlqKeyTest, FileRelativeToTheConfigAndEnvironmentWins) {
  const std::string file_key(64, 'a');
  const std::string env_key(64, 'b');
  write("dlq.key", file_key + "\n");
  settings_.dlq_key_file = "dlq.key";
  std::optional<DlqKey> from_file, from_env;
  ASSERT_TRUE(load_dlq_key(settings_, from_file).is_ok());
  ASSERT_TRUE(from_file);
  ScopedEnv env(kDlqKeyEnv, env_key);
  ASSERT_TRUE(load_dlq_key(settings_, from_env).is_ok());
  ASSERT_TRUE(from_env);
  EXPECT_NE(from_file->id, from_env->id);
  EXPECT_EQ(from_env->bytes[0], 0xbb);
}

TEST_F(DlqKeyTest, MalformedOrMissingKeysNameTheirOriginWithoutEchoingThem) {
  write("bad.key", "not-a-hex-key-secret\n");
  settings_.dlq_key_file = "bad.key";
  std::optional<DlqKey> key;
  Status s = load_dlq_key(settings_, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), StartsWith("privacy.dlq_key_file"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("secret")));
  settings_.dlq_key_file = "absent.key";
  s = load_dlq_key(settings_, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr("cannot read"));
  ScopedEnv env(kDlqKeyEnv, "short");
  s = load_dlq_key(settings_, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr("MOZAIEK_DLQ_KEY"));
}

TEST_F(SettingsTest, RetentionSealingAndChainTopicsAreReadAndChecked) {
  EXPECT_THAT(load(shipped_with("    dlq_days: 3", "    dlq_days: 1.5")), IsEmpty());
  EXPECT_EQ(settings_.retention.dlq, Millis{129'600'000});
  EXPECT_EQ(settings_.dlq_max_sealed_bytes, 65536u);
  EXPECT_EQ(settings_.topics.chain_prefix, "chain.");
  EXPECT_THAT(load(shipped_with("    dlq_days: 3", "    dlq_weeks: 3")),
              Contains(HasSubstr("kafka.retention.dlq_weeks")));
  EXPECT_THAT(load(shipped_with("dlq_max_sealed_bytes: 65536", "dlq_max_sealed_bytes: 2000000")),
              Contains(HasSubstr("privacy.dlq_max_sealed_bytes")));
  EXPECT_THAT(load(shipped_with("    chain_events_org: \"\"", "    chain_events_org: coa")),
              IsEmpty());
  EXPECT_EQ(settings_.topics.chain_events_org, "coa");
}

TEST_F(PseudonymKeyTest, AVersionedKeyListLoadsAndAMalformedOneIsNamedWithoutItsKeys) {
  write("keys", "mozaiek-pseudonym-keys\n1:first-key-0123456789abcdef\n"
                "2:second-key-0123456789abcdef\n");
  settings_.pseudonym_key_file = "keys";
  std::string key;
  ASSERT_TRUE(load_pseudonym_key(settings_, false, key).is_ok());
  EXPECT_EQ(Pseudonymiser(key).key_version(), 2);

  write("gap", "mozaiek-pseudonym-keys\n1:first-key-0123456789abcdef\n"
               "3:third-key-0123456789abcdef\n");
  settings_.pseudonym_key_file = "gap";
  Status s = load_pseudonym_key(settings_, false, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), StartsWith("privacy.pseudonym_key_file: "));
  EXPECT_THAT(s.message(), HasSubstr("must start with '2:'"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("key-0123")));
  ScopedEnv env(kPseudonymKeyEnv, "mozaiek-pseudonym-keys\n1:too-short\n");
  s = load_pseudonym_key(settings_, false, key);
  ASSERT_FALSE(s.is_ok());
  EXPECT_THAT(s.message(), HasSubstr("MOZAIEK_PSEUDONYM_KEY"));
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("too-short")));
}

}  // namespace
}  // namespace mozaiek
