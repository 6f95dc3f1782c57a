// DBIter: the public Iterator over the LSM, built on a merging iterator.
//
// Shows, for each user key, the newest version with a sequence number <= the
// iterator's snapshot, and hides the key if that version is a tombstone. The
// internal iterator yields (user key asc, sequence desc), so moving forward
// the first visible version of a key is the one to show; moving backward the
// iterator must scan all versions of a key and keep the last visible one.
// `keepalive` holds what the internal iterator reads (a Version), for the
// iterator's lifetime. Not thread-safe.
#pragma once

#include <memory>

#include "lightning/iterator.h"
#include "lightning/lsm/dbformat.h"
#include "lightning/util/internal_iterator.h"

namespace lightning {

std::unique_ptr<Iterator> NewDBIterator(InternalIterator* internal, SequenceNumber sequence,
                                        std::shared_ptr<const void> keepalive);

}  // namespace lightning
