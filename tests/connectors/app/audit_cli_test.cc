// `mozaiek audit` without a broker: it names the bad option, never takes a
// raw person identifier, needs someone to audit the read-back as, and
// refuses the embedded cluster (which lives inside a running service).
// Reading a trail from a real broker is in
// tests/integration/audit_real_broker_test.cc.
#include <gtest/gtest.h>

#include "tests/support/command.h"

namespace mozaiek {
namespace {

const std::string kBin = MOZAIEK_BINARY;

test::CommandResult audit(const std::string& args) {
  return test::run_command(kBin + " audit " + args + " 2>&1");
}

TEST(AuditCommandTest, NamesTheBadOptionAndNeverTakesARawPersonId) {
  auto r = audit("--subject person:2213456789 --user dpo-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--subject: persons are named by pseudonym only"), std::string::npos)
      << r.output;
  r = audit("--subject boat:x --user dpo-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--subject: type must be one of"), std::string::npos) << r.output;
  r = audit("--subject vehicle --user dpo-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("expected TYPE:KEY"), std::string::npos) << r.output;
  r = audit("--user dpo-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("either --subject TYPE:KEY or --principal NAME"), std::string::npos)
      << r.output;
  r = audit("--principal ana --limit 0 --user dpo-1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--limit"), std::string::npos) << r.output;
  r = test::run_command("env -u USER " + kBin + " audit --principal ana 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--user"), std::string::npos) << r.output;
  r = audit("--principal ana --user dpo-1");  // shipped config: embedded
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("GET /api/audit"), std::string::npos) << r.output;
  r = test::run_command(kBin + " audit --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--subject"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace mozaiek
