// Comparator: a total order over keys, used by blocks, tables and iterators.
// Implementations must be thread-safe (they are stateless here).
#pragma once

#include <string_view>

namespace lightning {

class Comparator {
 public:
  virtual ~Comparator() = default;
  // <0, 0, >0 as a is before, equal to, after b.
  virtual int Compare(std::string_view a, std::string_view b) const = 0;
};

// memcmp order, then the shorter key first: the order of user keys.
const Comparator* BytewiseComparator();

}  // namespace lightning
