#include "lightning/util/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lightning {
namespace {

TEST(CodingTest, FixedRoundTripLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201u);
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(12u, s.size());
  EXPECT_EQ(1, s[0]);
  EXPECT_EQ(4, s[3]);
  EXPECT_EQ(1, s[4]);
  std::string_view in(s);
  uint32_t a = 0;
  uint64_t b = 0;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(0x04030201u, a);
  EXPECT_EQ(0x0807060504030201ull, b);
  EXPECT_FALSE(GetFixed32(&in, &a));
}

TEST(CodingTest, VarintRoundTripAndLength) {
  std::vector<uint64_t> values = {
      0, 1, 127, 128, 255, 16383, 16384, UINT32_MAX, uint64_t{UINT32_MAX} + 1, UINT64_MAX};
  for (int shift = 0; shift < 64; shift++) values.push_back((uint64_t{1} << shift) - 1);
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  std::string_view in(s);
  for (uint64_t v : values) {
    uint64_t got = 0;
    size_t before = in.size();
    ASSERT_TRUE(GetVarint64(&in, &got));
    EXPECT_EQ(v, got);
    EXPECT_EQ(static_cast<size_t>(VarintLength(v)), before - in.size());
  }
  EXPECT_TRUE(in.empty());
}

TEST(CodingTest, TruncatedAndOverlongVarintsAreRejected) {
  std::string s;
  PutVarint64(&s, UINT64_MAX);
  for (size_t n = 0; n < s.size(); n++) {
    std::string_view in(s.data(), n);
    uint64_t v = 0;
    EXPECT_FALSE(GetVarint64(&in, &v)) << n;
  }
  std::string eleven(11, '\x80');
  std::string_view in(eleven);
  uint64_t v = 0;
  EXPECT_FALSE(GetVarint64(&in, &v));
  // A value above 32 bits is not a varint32.
  std::string big;
  PutVarint64(&big, uint64_t{1} << 32);
  std::string_view in32(big);
  uint32_t v32 = 0;
  EXPECT_FALSE(GetVarint32(&in32, &v32));
}

// DecodeVarint32's inline one-byte path and its long path agree with the
// encoder at every length boundary, and both refuse an empty or cut input.
TEST(CodingTest, Varint32ShortAndLongPaths) {
  for (uint32_t v : {0u, 1u, 127u, 128u, 129u, 16383u, 16384u, (1u << 21) - 1, 1u << 21,
                     (1u << 28) - 1, 1u << 28, UINT32_MAX}) {
    std::string s;
    PutVarint32(&s, v);
    uint32_t got = ~v;
    const char* end = DecodeVarint32(s.data(), s.data() + s.size(), &got);
    ASSERT_EQ(s.data() + s.size(), end) << v;
    EXPECT_EQ(v, got);
    for (size_t cut = 0; cut < s.size(); cut++) {
      EXPECT_EQ(nullptr, DecodeVarint32(s.data(), s.data() + cut, &got)) << v << " cut " << cut;
    }
  }
}

TEST(CodingTest, LengthPrefixedChecksLength) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  PutLengthPrefixed(&s, "");
  std::string_view in(s), out;
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ("hello", out);
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ("", out);
  std::string cut = s.substr(0, 4);  // length 5, only 3 bytes follow
  std::string_view bad(cut);
  EXPECT_FALSE(GetLengthPrefixed(&bad, &out));
}

}  // namespace
}  // namespace lightning
