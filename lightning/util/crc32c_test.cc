#include "lightning/util/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace lightning::crc32c {
namespace {

// Known answers from RFC 3720 (iSCSI), appendix B.4.
TEST(Crc32cTest, KnownVectors) {
  std::string buf(32, '\0');
  EXPECT_EQ(0x8a9136aau, Value(buf));
  buf.assign(32, '\xff');
  EXPECT_EQ(0x62a8ab43u, Value(buf));
  for (int i = 0; i < 32; i++) buf[i] = static_cast<char>(i);
  EXPECT_EQ(0x46dd794eu, Value(buf));
  for (int i = 0; i < 32; i++) buf[i] = static_cast<char>(31 - i);
  EXPECT_EQ(0x113fdb5cu, Value(buf));
  EXPECT_EQ(0xe3069283u, Value("123456789"));
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string data = "hello world, this spans more than eight bytes at a time";
  for (size_t split = 0; split <= data.size(); split++) {
    uint32_t head = Value(data.data(), split);
    EXPECT_EQ(Value(data), Extend(head, data.data() + split, data.size() - split)) << split;
  }
}

// The hardware and portable paths agree on every length 0..300, at every
// alignment 0..7, and when a CRC is continued from a split anywhere; and on
// long inputs, where the hardware path runs three streams and joins them.
TEST(Crc32cTest, HardwareAndPortableAgree) {
  if (!internal::HardwareAvailable()) GTEST_SKIP() << "no crc32 instruction on this CPU";
  std::string buf(40000, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;  // fixed xorshift bytes: the test is deterministic
  for (char& b : buf) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    b = static_cast<char>(x);
  }
  for (size_t offset = 0; offset < 8; offset++) {
    for (size_t n = 0; n + offset <= 308; n++) {
      const char* p = buf.data() + offset;
      ASSERT_EQ(internal::ExtendPortable(0, p, n), internal::ExtendHardware(0, p, n))
          << "offset " << offset << " length " << n;
      const size_t split = n / 3;
      uint32_t head = internal::ExtendHardware(0, p, split);
      ASSERT_EQ(internal::ExtendPortable(0, p, n),
                internal::ExtendHardware(head, p + split, n - split))
          << "offset " << offset << " length " << n << " split " << split;
    }
  }
  for (size_t n : {3071, 3072, 3073, 4092, 6143, 6144, 9216, 9217, 39990}) {
    for (size_t offset : {0, 3, 8}) {
      const char* p = buf.data() + offset;
      ASSERT_EQ(internal::ExtendPortable(0, p, n), internal::ExtendHardware(0, p, n))
          << "offset " << offset << " length " << n;
      ASSERT_EQ(internal::ExtendPortable(0x12345678, p, n),
                internal::ExtendHardware(0x12345678, p, n))
          << "offset " << offset << " length " << n << " continued";
    }
  }
  EXPECT_EQ(0xe3069283u, internal::ExtendHardware(0, "123456789", 9));
  EXPECT_EQ(0xe3069283u, internal::ExtendPortable(0, "123456789", 9));
}

TEST(Crc32cTest, MaskRoundTripsAndDiffers) {
  uint32_t crc = Value("foo");
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

}  // namespace
}  // namespace lightning::crc32c
