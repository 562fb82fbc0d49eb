// The audit component: who a request names, and the one record each
// audited request leaves on the audit topic.
#include "connectors/http/api/audit.h"

#include <gtest/gtest.h>

#include "tests/support/pipeline_harness.h"

namespace mozaiek {
namespace {

HttpRequest with_user(std::string user) {
  HttpRequest r;
  r.headers.emplace_back("x-mozaiek-user", std::move(user));
  return r;
}

TEST(AuditTest, ARequestNamesItsUserInOneTo128Characters) {
  EXPECT_EQ(request_user(with_user("analyst-7")), "analyst-7");
  EXPECT_EQ(request_user(with_user(std::string(128, 'a'))), std::string(128, 'a'));
  EXPECT_FALSE(request_user(with_user(std::string(129, 'a'))));
  EXPECT_FALSE(request_user(with_user("")));
  EXPECT_FALSE(request_user(HttpRequest{}));
}

TEST(AuditTest, OneRecordOnTheAuditTopicKeyedByTheUser) {
  test::RecordingSink sink;
  std::string scratch = "left over";
  const AuditEntry entry{"analyst-7",
                         "entity_view",
                         SubjectType::vehicle,
                         "NL-AB123C",
                         ProcTime{Millis{1'764'000'000'000}},
                         "case 12",
                         true};
  ASSERT_TRUE(write_audit(sink, "mozaiek.audit", entry, scratch).is_ok());
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].topic, "mozaiek.audit");
  EXPECT_EQ(sink.records[0].key, "analyst-7");
  EXPECT_EQ(sink.records[0].value,
            R"({"schema":"mozaiek.audit/v1","user":"analyst-7","action":"entity_view",)"
            R"("entity":{"type":"vehicle","key":"NL-AB123C"},"at":"2025-11-24T16:00:00Z",)"
            R"("reason":"case 12","found":true})");
}

TEST(AuditTest, AFailedWriteIsReturned) {
  test::RecordingSink sink;
  sink.fail = true;
  std::string scratch;
  const AuditEntry entry{"analyst-7", "erasure", SubjectType::location, "coa-budel", {}, "r", {}};
  EXPECT_FALSE(write_audit(sink, "mozaiek.audit", entry, scratch).is_ok());
}

}  // namespace
}  // namespace mozaiek
