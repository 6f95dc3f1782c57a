#include "lightning/status.h"

namespace lightning {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk:
      return "OK";
    case Code::kNotFound:
      name = "NotFound";
      break;
    case Code::kCorruption:
      name = "Corruption";
      break;
    case Code::kIOError:
      name = "IOError";
      break;
    case Code::kInvalidArgument:
      name = "InvalidArgument";
      break;
    case Code::kBusy:
      name = "Busy";
      break;
    case Code::kNotSupported:
      name = "NotSupported";
      break;
  }
  return message_ == nullptr ? std::string(name) : std::string(name) + ": " + *message_;
}

const std::string& Status::Empty() {
  static const std::string* empty = new std::string;
  return *empty;
}

}  // namespace lightning
