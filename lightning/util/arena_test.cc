#include "lightning/util/arena.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "lightning/util/random.h"

namespace lightning {
namespace {

TEST(ArenaTest, AllocationsKeepTheirBytesAndAlignment) {
  Arena arena;
  Random rnd(301);
  std::vector<std::pair<size_t, char*>> allocated;
  size_t total = 0;
  for (int i = 0; i < 5000; i++) {
    size_t n = i % 500 == 0 ? 100000 : 1 + rnd.Uniform(i % 20 == 0 ? 6000 : 20);
    char* p = (i % 2 == 0) ? arena.AllocateAligned(n) : arena.Allocate(n);
    if (i % 2 == 0) EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % 8);
    std::memset(p, i % 256, n);
    allocated.emplace_back(n, p);
    total += n;
    EXPECT_GE(arena.MemoryUsage(), total);
  }
  for (size_t i = 0; i < allocated.size(); i++) {
    auto [n, p] = allocated[i];
    for (size_t b = 0; b < n; b++) ASSERT_EQ(static_cast<char>(i % 256), p[b]) << i;
  }
  // Small blocks: usage stays close to what was asked for.
  EXPECT_LT(arena.MemoryUsage(), total + total / 4 + 8192);
}

}  // namespace
}  // namespace lightning
