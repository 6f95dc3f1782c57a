#include "lightning/tools/escape.h"

#include <cstdlib>
#include <iostream>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace lightning {
namespace {

std::string Unescaped(std::string_view escaped) {
  std::string raw;
  EXPECT_TRUE(Unescape(escaped, &raw)) << escaped;
  return raw;
}

TEST(EscapeTest, PrintableBytesPassThrough) {
  EXPECT_EQ(Escape(""), "");
  EXPECT_EQ(Escape("user:42 name=Ada ~!"), "user:42 name=Ada ~!");
}

TEST(EscapeTest, SpecialAndNonPrintableBytes) {
  using namespace std::string_literals;
  EXPECT_EQ(Escape("a\\b"), "a\\\\b");
  EXPECT_EQ(Escape("a\tb\nc"), "a\\tb\\nc");
  EXPECT_EQ(Escape("\0\x01\x1f\x7f\x80\xff"s), "\\x00\\x01\\x1f\\x7f\\x80\\xff");
  EXPECT_EQ(Escape("\r"), "\\x0d");
}

TEST(EscapeTest, OutputHasNoTabOrNewline) {
  std::string all;
  for (int b = 0; b < 256; b++) all += static_cast<char>(b);
  std::string escaped = Escape(all);
  EXPECT_EQ(escaped.find('\t'), std::string::npos);
  EXPECT_EQ(escaped.find('\n'), std::string::npos);
  EXPECT_EQ(Unescaped(escaped), all);
}

TEST(EscapeTest, UnescapeAcceptsBothHexCases) {
  using namespace std::string_literals;
  EXPECT_EQ(Unescaped("\\xAb\\xaB\\x00z"), "\xab\xab\0z"s);
  EXPECT_EQ(Unescaped("tab\\there\\\\"), "tab\there\\");
  // Raw bytes that Escape would have escaped are still accepted as themselves.
  EXPECT_EQ(Unescaped("a\tb\xff"), "a\tb\xff");
}

TEST(EscapeTest, UnescapeRejectsMalformedEscapes) {
  std::string raw;
  for (std::string_view bad : {"\\", "abc\\", "\\q", "\\x", "\\x4", "\\xg0", "\\x0g", "\\r"}) {
    EXPECT_FALSE(Unescape(bad, &raw)) << bad;
  }
}

TEST(EscapeTest, RandomRoundTrip) {
  const char* env = std::getenv("LIGHTNING_SEED");
  const unsigned seed = env != nullptr ? std::strtoul(env, nullptr, 10) : std::random_device{}();
  std::cout << "LIGHTNING_SEED=" << seed << "\n";
  std::mt19937 rng(seed);
  for (int i = 0; i < 2000; i++) {
    std::string raw(rng() % 40, '\0');
    for (char& c : raw) c = static_cast<char>(rng());
    ASSERT_EQ(Unescaped(Escape(raw)), raw) << "seed " << seed << " case " << i;
  }
}

TEST(EscapeTest, SplitTabsIsExactOnEscapedFields) {
  EXPECT_EQ(SplitTabs(""), std::vector<std::string_view>{""});
  EXPECT_EQ(SplitTabs("a\tb"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(SplitTabs("\ta\t"), (std::vector<std::string_view>{"", "a", ""}));
  std::string key("k\tx\n\0", 5), value("v\t\t", 3);
  const std::string line = Escape(key) + "\t" + Escape(value);
  std::vector<std::string_view> f = SplitTabs(line);
  ASSERT_EQ(f.size(), 2u);
  std::string k, v;
  ASSERT_TRUE(Unescape(f[0], &k) && Unescape(f[1], &v));
  EXPECT_EQ(k, key);
  EXPECT_EQ(v, value);
}

}  // namespace
}  // namespace lightning
