// TwoLevelIterator: iterates a sequence of blocks through an index.
//
// The index iterator's values name blocks (a table's index block values are
// BlockHandles; the LSM level iterator's are a file's number and size); block_function
// opens an iterator over one of them. The result yields the blocks' entries in
// order, in both directions, skipping empty blocks. The first error from the
// index or from a block stops iteration: the iterator becomes invalid and
// status() reports it, so a damaged block is never silently skipped.
//
// Not thread-safe (like every iterator).
#pragma once

#include <functional>
#include <string_view>

#include "lightning/util/internal_iterator.h"

namespace lightning {

// Takes ownership of index_iter. block_function returns a new iterator (an
// error iterator on failure) and must stay callable while the result lives.
InternalIterator* NewTwoLevelIterator(
    InternalIterator* index_iter,
    std::function<InternalIterator*(std::string_view index_value)> block_function);

}  // namespace lightning
