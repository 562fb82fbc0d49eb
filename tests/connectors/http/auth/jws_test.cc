#include "connectors/http/auth/jws.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "connectors/http/auth/jwk_set.h"

namespace mozaiek::auth {
namespace {

using ::testing::HasSubstr;

TEST(Base64UrlTest, RoundTripsAndRefusesTheOtherAlphabetAndPadding) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("\xff\xfe\x00\x01", 4)}) {
    std::string back;
    ASSERT_TRUE(base64url_decode(base64url_encode(s), back));
    EXPECT_EQ(back, s);
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(base64url_decode("+/8", out));   // standard base64
  EXPECT_FALSE(base64url_decode("Zg==", out));  // padding
  EXPECT_FALSE(base64url_decode("Z", out));     // impossible length
  EXPECT_FALSE(base64url_decode("Zh", out));    // non-zero leftover bits
}

TEST(CompactJwsTest, NeedsThreeDecodablePartsAndASignature) {
  CompactJws jws;
  EXPECT_TRUE(split_compact_jws("eyJhIjoxfQ.e30.c2ln", jws));
  EXPECT_EQ(jws.header_json, R"({"a":1})");
  EXPECT_EQ(jws.payload_json, "{}");
  EXPECT_EQ(jws.signature, "sig");
  EXPECT_EQ(jws.signing_input, "eyJhIjoxfQ.e30");
  EXPECT_FALSE(split_compact_jws("eyJhIjoxfQ.e30.", jws));        // unsigned
  EXPECT_FALSE(split_compact_jws("eyJhIjoxfQ.e30", jws));         // two parts
  EXPECT_FALSE(split_compact_jws("a.b.c.d", jws));                // JWE-like
  EXPECT_FALSE(split_compact_jws("eyJhIjoxfQ.e3=.c2ln", jws));    // not base64url
  EXPECT_FALSE(split_compact_jws(std::string(20000, 'a'), jws));  // too large
  Status s = split_compact_jws("secret-looking.token.value!", jws);
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), ::testing::Not(HasSubstr("secret")));
}

TEST(CompactJwsTest, OnlyAsymmetricAlgorithmsAreAllowed) {
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"})
    EXPECT_TRUE(algorithm_allowed(alg)) << alg;
  for (const char* alg : {"none", "None", "HS256", "HS512", "", "RS1", "EdDSA"})
    EXPECT_FALSE(algorithm_allowed(alg)) << alg;
}

TEST(JwkSetTest, KeepsSigningKeysAndSkipsSymmetricAndEncryptionKeys) {
  // An RSA modulus of 2048 bits (only its length matters for parsing), an
  // EC P-256 point that is on the curve (the generator), an oct key and an
  // encryption key.
  const std::string n = base64url_encode(std::string(1, '\xc1') + std::string(255, '\x35'));
  const std::string gx = "axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY";
  const std::string gy = "T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU";
  const std::string doc = R"({"keys":[)"
                          R"({"kty":"RSA","kid":"r1","alg":"RS256","use":"sig","n":")" +
                          n +
                          R"(","e":"AQAB"},)"
                          R"({"kty":"EC","kid":"e1","crv":"P-256","x":")" +
                          gx + R"(","y":")" + gy +
                          R"("},)"
                          R"({"kty":"oct","kid":"h1","k":"c2VjcmV0"},)"
                          R"({"kty":"RSA","kid":"enc","use":"enc","n":")" +
                          n + R"(","e":"AQAB"}]})";
  JwkSet set;
  ASSERT_TRUE(JwkSet::parse(doc, set));
  EXPECT_EQ(set.size(), 2u);
  ASSERT_NE(set.find("r1"), nullptr);
  ASSERT_NE(set.find("e1"), nullptr);
  EXPECT_EQ(set.find("h1"), nullptr);
  EXPECT_EQ(set.find("enc"), nullptr);
  EXPECT_TRUE(key_fits_algorithm(*set.find("r1"), "RS256"));
  EXPECT_FALSE(key_fits_algorithm(*set.find("r1"), "PS256"));  // the key says RS256
  EXPECT_TRUE(key_fits_algorithm(*set.find("e1"), "ES256"));
  EXPECT_FALSE(key_fits_algorithm(*set.find("e1"), "ES384"));
  EXPECT_EQ(set.only_key_for("ES256"), set.find("e1"));
  EXPECT_EQ(set.only_key_for("HS256"), nullptr);
}

TEST(JwkSetTest, MalformedDocumentsAndShortRsaKeysAreRefused) {
  JwkSet set;
  EXPECT_FALSE(JwkSet::parse("not json", set));
  EXPECT_FALSE(JwkSet::parse(R"({"keys":{}})", set));
  EXPECT_FALSE(JwkSet::parse(R"({"keys":[{"kid":"x"}]})", set));
  const std::string short_n = base64url_encode(std::string(128, '\x35'));  // 1024 bits
  Status s = JwkSet::parse(
      R"({"keys":[{"kty":"RSA","kid":"r","n":")" + short_n + R"(","e":"AQAB"}]})", set);
  EXPECT_FALSE(s);
  EXPECT_THAT(s.message(), HasSubstr("JWK Set key 0 (RSA) is malformed"));
}

}  // namespace
}  // namespace mozaiek::auth
