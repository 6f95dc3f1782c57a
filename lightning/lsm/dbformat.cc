#include "lightning/lsm/dbformat.h"

namespace lightning {

const InternalKeyComparator* GetInternalKeyComparator() {
  static const InternalKeyComparator kComparator;
  return &kComparator;
}

}  // namespace lightning
