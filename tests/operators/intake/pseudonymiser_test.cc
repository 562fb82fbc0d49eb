#include "operators/intake/pseudonymiser.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <initializer_list>
#include <stdexcept>
#include <string>

namespace mozaiek {
namespace {

std::string openssl_hmac_hex(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0x0f]);
  }
  return out;
}

std::string pseudonym(const Pseudonymiser& p, std::string_view scheme, std::string_view id) {
  std::string out;
  p.pseudonymise(scheme, id, out);
  return out;
}

TEST(PseudonymiserTest, MatchesRfc4231KnownAnswers) {
  std::string out;
  // Test case 1: 20-byte key.
  Pseudonymiser(std::string(20, '\x0b')).mac_hex("Hi There", out);
  EXPECT_EQ(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 6: a key longer than the block size is hashed first.
  Pseudonymiser(std::string(131, '\xaa'))
      .mac_hex("Test Using Larger Than Block-Size Key - Hash Key First", out);
  EXPECT_EQ(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(PseudonymiserTest, MatchesOpenSslHmacOverSchemeColonId) {
  const std::string keys[] = {std::string(16, 'k'), std::string(64, 'b'), std::string(65, 'z'),
                              std::string(200, '\x01')};
  const std::pair<std::string, std::string> inputs[] = {
      {"bsn", "123456789"},
      {"v-number", "NL1234X"},
      {"", ""},
      {"eurodac", std::string(55, '7')},  // message exactly fills one block with padding
      {"x", std::string(300, 'Q')},       // several blocks
      {"scheme", std::string("with\0nul", 8)}};
  for (const auto& key : keys) {
    Pseudonymiser p(key);
    for (const auto& [scheme, id] : inputs) {
      const std::string got = pseudonym(p, scheme, id);
      std::string message = scheme + ":";
      message += id;
      EXPECT_EQ(got, openssl_hmac_hex(key, message)) << key.size() << " " << scheme;
      EXPECT_EQ(got.size(), Pseudonymiser::kHexChars);
    }
  }
}

TEST(PseudonymiserTest, IsStableAcrossCallsAndInstances) {
  const std::string key = "stable-key-0123456789";
  Pseudonymiser a(key);
  Pseudonymiser b(key);
  std::string out = "previous content that is longer than sixty-four characters, to be replaced";
  a.pseudonymise("bsn", "123456789", out);
  EXPECT_EQ(out, pseudonym(a, "bsn", "123456789"));
  EXPECT_EQ(out, pseudonym(b, "bsn", "123456789"));
  EXPECT_EQ(out.size(), 64u);
  EXPECT_EQ(out.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(PseudonymiserTest, DependsOnKeySchemeAndId) {
  Pseudonymiser a("key-one-0123456789");
  Pseudonymiser b("key-two-0123456789");
  const std::string base = pseudonym(a, "bsn", "123456789");
  EXPECT_NE(base, pseudonym(b, "bsn", "123456789"));
  EXPECT_NE(base, pseudonym(a, "v-number", "123456789"));
  EXPECT_NE(base, pseudonym(a, "bsn", "123456780"));
}

TEST(PseudonymiserTest, RejectsShortKeys) {
  EXPECT_THROW(Pseudonymiser(""), std::invalid_argument);
  EXPECT_THROW(Pseudonymiser(std::string(15, 'k')), std::invalid_argument);
  EXPECT_NO_THROW(Pseudonymiser(std::string(16, 'k')));
}

TEST(PseudonymiserTest, NormalisesPersonIdsToOneSpelling) {
  EXPECT_EQ(normalise_person_id(" 1234.56.789 "), "123456789");
  EXPECT_EQ(normalise_person_id("1234-56-789"), "123456789");
  EXPECT_EQ(normalise_person_id("ab 12\tcd"), "AB12CD");
  EXPECT_EQ(normalise_person_id(" .-\n"), "");
  EXPECT_EQ(normalise_person_id("\xc3\xa9t\xc3\xa9"), "\xc3\xa9T\xc3\xa9");  // non-ASCII kept as is
  std::string out = "old";
  normalise_person_id("x-1", out);
  EXPECT_EQ(out, "X1");
}

// Key rotation: a versioned key list chains the MACs, so version n is
// HMAC(k_n, pseudonym under n-1) and old state moves with rekey().
const std::string kKey1 = "first-key-0123456789abcdef";
const std::string kKey2 = "second-key-0123456789abcdef";
std::string key_list(std::initializer_list<std::string> keys) {
  std::string out = std::string(Pseudonymiser::kKeyListHeader) + "\n";
  int v = 0;
  for (const auto& k : keys) out += std::to_string(++v) + ":" + k + "\n";
  return out;
}

TEST(PseudonymiserTest, AKeyListWithOneVersionGivesTheSingleKeysPseudonyms) {
  const Pseudonymiser single(kKey1);
  const Pseudonymiser listed(key_list({kKey1}));
  EXPECT_EQ(single.key_version(), 1);
  EXPECT_EQ(listed.key_version(), 1);
  EXPECT_EQ(pseudonym(listed, "bsn", "123456789"), pseudonym(single, "bsn", "123456789"));
}

TEST(PseudonymiserTest, VersionTwoIsTheMacOfTheVersionOnePseudonymUnderTheSecondKey) {
  const Pseudonymiser chain(key_list({kKey1, kKey2}));
  EXPECT_EQ(chain.key_version(), 2);
  const std::string v1 = openssl_hmac_hex(kKey1, "bsn:123456789");
  EXPECT_EQ(pseudonym(chain, "bsn", "123456789"), openssl_hmac_hex(kKey2, v1));
  // Holding only the old key no longer gives the current pseudonym.
  EXPECT_NE(pseudonym(Pseudonymiser(kKey1), "bsn", "123456789"),
            pseudonym(chain, "bsn", "123456789"));
}

TEST(PseudonymiserTest, RekeyMovesAnOldPseudonymToTheNewestVersionWithoutTheRawId) {
  const Pseudonymiser old_key(kKey1);
  const Pseudonymiser chain(key_list({kKey1, kKey2, kKey1 + "-3"}));
  const std::string v1 = pseudonym(old_key, "v-number", "2213456789");
  std::string moved;
  chain.rekey(v1, 1, moved);
  EXPECT_EQ(moved, pseudonym(chain, "v-number", "2213456789"));
  const std::string v2 = pseudonym(Pseudonymiser(key_list({kKey1, kKey2})), "v-number",
                                   "2213456789");
  chain.rekey(v2, 2, moved);
  EXPECT_EQ(moved, pseudonym(chain, "v-number", "2213456789"));
  chain.rekey(moved, 3, moved);  // already newest: unchanged, even in place
  EXPECT_EQ(moved, pseudonym(chain, "v-number", "2213456789"));
}

TEST(PseudonymiserTest, RefusesMalformedKeyListsWithoutQuotingAKey) {
  const std::string header = std::string(Pseudonymiser::kKeyListHeader) + "\n";
  for (const std::string& bad :
       {header, header + "2:" + kKey2 + "\n", header + "1:" + kKey1 + "\n3:" + kKey2 + "\n",
        header + "1:" + kKey1 + "\n2:short\n", header + kKey1 + "\n"}) {
    try {
      const Pseudonymiser p(bad);
      ADD_FAILURE() << "accepted a malformed key list";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find("key-0123"), std::string::npos) << what;
      EXPECT_EQ(what.find("short"), std::string::npos) << what;
    }
  }
  // CRLF line ends and blank lines are fine.
  const Pseudonymiser crlf(header + "1:" + kKey1 + "\r\n\r\n2:" + kKey2 + "\r\n");
  EXPECT_EQ(pseudonym(crlf, "bsn", "1"),
            pseudonym(Pseudonymiser(key_list({kKey1, kKey2})), "bsn", "1"));
}

}  // namespace
}  // namespace mozaiek
