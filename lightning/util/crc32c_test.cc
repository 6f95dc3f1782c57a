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

TEST(Crc32cTest, MaskRoundTripsAndDiffers) {
  uint32_t crc = Value("foo");
  EXPECT_NE(crc, Mask(crc));
  EXPECT_NE(crc, Mask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Mask(crc)));
  EXPECT_EQ(crc, Unmask(Unmask(Mask(Mask(crc)))));
}

}  // namespace
}  // namespace lightning::crc32c
