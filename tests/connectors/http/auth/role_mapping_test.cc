#include "connectors/http/auth/role_mapping.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mozaiek::auth {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(RoleMappingTest, RolesClaimValuesThatAreRoleNamesCountAsTheyAre) {
  RoleMapping m;
  EXPECT_THAT(m.roles_from_json(R"({"roles":["operator","analyst","admin","analyst"]})"),
              ElementsAre("analyst", "operator"));
  EXPECT_THAT(m.roles_from_json(R"({"roles":"care"})"), ElementsAre("care"));
  EXPECT_THAT(m.roles_from_json(R"({"roles":["Analyst"]})"), IsEmpty());  // exact names only
}

TEST(RoleMappingTest, MissingOrMistypedClaimGivesNoRoles) {
  RoleMapping m;
  EXPECT_THAT(m.roles_from_json(R"({"sub":"ana"})"), IsEmpty());
  EXPECT_THAT(m.roles_from_json(R"({"roles":{"analyst":true}})"), IsEmpty());
  EXPECT_THAT(m.roles_from_json(R"({"roles":[1,null,"metrics"]})"), ElementsAre("metrics"));
  EXPECT_THAT(m.roles_from_json("not json"), IsEmpty());
  EXPECT_THAT(m.roles_from_json("[]"), IsEmpty());
}

TEST(RoleMappingTest, DottedPathReachesIntoNestedObjects) {
  RoleMapping keycloak;
  keycloak.claim = "realm_access.roles";
  EXPECT_THAT(keycloak.roles_from_json(R"({"realm_access":{"roles":["oversight","uma"]}})"),
              ElementsAre("oversight"));
  RoleMapping client;
  client.claim = "resource_access.mozaiek.roles";
  EXPECT_THAT(client.roles_from_json(
                  R"({"resource_access":{"mozaiek":{"roles":["privacy_officer"]}}})"),
              ElementsAre("privacy_officer"));
  EXPECT_THAT(client.roles_from_json(R"({"resource_access":{"other":{"roles":["analyst"]}}})"),
              IsEmpty());
  EXPECT_THAT(client.roles_from_json(R"({"resource_access":"mozaiek"})"), IsEmpty());
}

TEST(RoleMappingTest, RoleMapTurnsGroupsIntoRolesAndDropsUnmappedValues) {
  RoleMapping m;
  m.claim = "groups";
  m.role_map = {{"/politie/tfmm", {"analyst"}},
                {"/beheer", {"operator", "metrics"}},
                {"/zorg", {"care"}}};
  EXPECT_THAT(m.roles_from_json(R"({"groups":["/politie/tfmm","/beheer","/kantine"]})"),
              ElementsAre("analyst", "metrics", "operator"));
  // With a map, a value that happens to be a role name is not taken as is.
  EXPECT_THAT(m.roles_from_json(R"({"groups":["analyst"]})"), IsEmpty());
}

TEST(SubjectMapTest, ExactSubjectFindsItsPrincipal) {
  SubjectMap map({{"/O=Politie/CN=prometheus", "prometheus", {"metrics"}},
                  {"/O=KMar/CN=partner-feed", "kmar-feed", {"operator"}}});
  const MtlsPrincipal* p = map.find("/O=Politie/CN=prometheus");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->name, "prometheus");
  EXPECT_THAT(p->roles, ElementsAre("metrics"));
  EXPECT_EQ(map.find("/O=Politie/CN=Prometheus"), nullptr);
  EXPECT_EQ(map.find("/O=Politie/CN=prometheus/OU=x"), nullptr);
  EXPECT_EQ(map.find(""), nullptr);
}

TEST(KnownRolesTest, TheSixRolesOfAccessH) {
  EXPECT_THAT(known_roles(), ElementsAre("analyst", "care", "oversight", "privacy_officer",
                                         "operator", "metrics"));
  EXPECT_TRUE(is_known_role("privacy_officer"));
  EXPECT_FALSE(is_known_role("admin"));
}

}  // namespace
}  // namespace mozaiek::auth
