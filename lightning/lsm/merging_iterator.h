// MergingIterator: the union of several sorted internal iterators, in order.
//
// Yields every entry of every child (no deduplication: the DB iterator above
// decides which version of a key is visible). Works in both directions; on a
// change of direction every child is repositioned around the current key.
// Takes ownership of the children. Not thread-safe.
#pragma once

#include <vector>

#include "lightning/util/comparator.h"
#include "lightning/util/internal_iterator.h"

namespace lightning {

InternalIterator* NewMergingIterator(const Comparator* cmp,
                                     std::vector<InternalIterator*> children);

}  // namespace lightning
