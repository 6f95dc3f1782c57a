#include "lightning/table/format.h"

#include <gtest/gtest.h>

#include <string>

#include "lightning/util/coding.h"

namespace lightning {
namespace {

std::string EncodedFooter() {
  Footer footer;
  footer.filter = {1000, 200};
  footer.index = {1205, 1ull << 20};
  std::string encoded;
  footer.EncodeTo(&encoded);
  return encoded;
}

TEST(FormatTest, BlockHandleRoundTrip) {
  for (uint64_t v : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, kMaxBlockBytes}) {
    BlockHandle h{v * 3, v}, decoded;
    std::string s;
    h.EncodeTo(&s);
    EXPECT_LE(s.size(), BlockHandle::kMaxEncodedBytes);
    std::string_view in = s;
    ASSERT_TRUE(decoded.DecodeFrom(&in));
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(decoded.offset, h.offset);
    EXPECT_EQ(decoded.size, h.size);
    std::string_view truncated = std::string_view(s).substr(0, s.size() - 1);
    EXPECT_FALSE(decoded.DecodeFrom(&truncated));
  }
  std::string huge;
  BlockHandle{0, kMaxBlockBytes + 1}.EncodeTo(&huge);
  std::string_view in = huge;
  BlockHandle decoded;
  EXPECT_FALSE(decoded.DecodeFrom(&in));
}

TEST(FormatTest, FooterRoundTrip) {
  std::string encoded = EncodedFooter();
  ASSERT_EQ(encoded.size(), kFooterBytes);
  Footer decoded;
  ASSERT_TRUE(decoded.DecodeFrom(encoded, "f.lt", 5000).ok());
  EXPECT_EQ(decoded.filter.offset, 1000u);
  EXPECT_EQ(decoded.filter.size, 200u);
  EXPECT_EQ(decoded.index.offset, 1205u);
  EXPECT_EQ(decoded.index.size, 1u << 20);
  EXPECT_EQ(decoded.format_version, kTableFormatVersion);
}

TEST(FormatTest, BadMagicIsCorruption) {
  std::string encoded = EncodedFooter();
  encoded[kFooterBytes - 1] ^= 1;
  Footer decoded;
  Status s = decoded.DecodeFrom(encoded, "f.lt", 5000);
  ASSERT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("f.lt"), std::string::npos);
  EXPECT_NE(s.message().find("magic"), std::string::npos);
  EXPECT_TRUE(decoded.DecodeFrom(std::string(kFooterBytes, 'x'), "f.lt", 0).IsCorruption());
  EXPECT_TRUE(decoded.DecodeFrom(encoded.substr(1), "f.lt", 0).IsCorruption());
}

TEST(FormatTest, FooterChecksumMismatchIsCorruption) {
  for (size_t i = 0; i < 40; i++) {
    std::string encoded = EncodedFooter();
    encoded[i] ^= 0x10;
    Footer decoded;
    Status s = decoded.DecodeFrom(encoded, "f.lt", 5000);
    ASSERT_TRUE(s.IsCorruption()) << i;
    EXPECT_NE(s.message().find("5000"), std::string::npos) << s.ToString();
  }
}

// A file over a string, for ReadBlock.
class StringFile : public RandomAccessFile {
 public:
  explicit StringFile(std::string data) : data_(std::move(data)) {}
  Status Read(uint64_t offset, size_t n, char*, std::string_view* result) const override {
    *result =
        offset > data_.size() ? std::string_view() : std::string_view(data_).substr(offset, n);
    return Status::OK();
  }
  std::string data_;
};

TEST(FormatTest, BlockRoundTripAndCrcMismatch) {
  const std::string raw = std::string(5000, 'a') + "tail";
  for (Compression c : {Compression::kNone, Compression::kLz4}) {
    std::string stored = "prefix";
    BlockHandle h{6, AppendBlock(raw, c, &stored)};
    EXPECT_EQ(stored.size(), 6 + h.size + kBlockTrailerBytes);
    if (c == Compression::kLz4) {
      EXPECT_LT(h.size, raw.size() / 8);
    }
    StringFile file(stored);
    std::string contents;
    ASSERT_TRUE(ReadBlock(file, "b.lt", h, true, &contents).ok());
    EXPECT_EQ(contents, raw);

    file.data_[6 + h.size / 2] ^= 1;
    Status s = ReadBlock(file, "b.lt", h, true, &contents);
    ASSERT_TRUE(s.IsCorruption());
    EXPECT_NE(s.message().find("b.lt"), std::string::npos);
    EXPECT_NE(s.message().find("offset 6"), std::string::npos) << s.ToString();
    // Past the end of the file.
    EXPECT_TRUE(ReadBlock(file, "b.lt", {6, h.size + 1}, false, &contents).IsCorruption());
  }
}

TEST(FormatTest, IncompressibleBlockIsStoredRaw) {
  std::string raw;
  for (int i = 0; i < 1000; i++) PutFixed32(&raw, i * 2654435761u);
  std::string stored;
  EXPECT_EQ(AppendBlock(raw, Compression::kLz4, &stored), raw.size());
  EXPECT_EQ(stored[raw.size()], kBlockTypeNone);
}

TEST(FormatTest, ImplausibleLz4SizeIsCorruption) {
  // An lz4 block claiming 1 GiB from three bytes, read without checksum
  // verification: the size alone must be refused before any allocation.
  std::string contents;
  PutVarint32(&contents, 1u << 30);
  contents += "abc";
  StringFile file(contents + static_cast<char>(kBlockTypeLz4) + "crc!");
  std::string out;
  Status s = ReadBlock(file, "z.lt", {0, contents.size()}, false, &out);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("implausible"), std::string::npos) << s.ToString();
  EXPECT_TRUE(out.empty());
}

TEST(FormatTest, UnknownBlockTypeIsCorruption) {
  std::string stored;
  BlockHandle h{0, AppendBlock("hello", Compression::kNone, &stored)};
  stored[h.size] = 7;
  StringFile file(stored);
  std::string out;
  EXPECT_TRUE(ReadBlock(file, "u.lt", h, true, &out).IsCorruption());   // checksum covers type
  EXPECT_TRUE(ReadBlock(file, "u.lt", h, false, &out).IsCorruption());  // unknown type
}

}  // namespace
}  // namespace lightning
