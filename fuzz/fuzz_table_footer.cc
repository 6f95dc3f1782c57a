// fuzz_table_footer: libFuzzer target for the table framing decoders of
// lightning/table/format.h: Footer::DecodeFrom and BlockHandle::DecodeFrom.
//
// Input: the whole input is decoded twice. (1) Its last kFooterBytes (or all
// of it, if shorter) go to Footer::DecodeFrom, exactly as Table::Open reads
// the tail of a file. (2) The input is consumed front to back as a sequence of
// BlockHandles, as an index block's values are.
//
// What must hold, for any bytes:
//  - no crash, no sanitizer report;
//  - a footer decode returns OK or Corruption; a decoded footer has handle
//    sizes <= kMaxBlockBytes and the current format version, and re-encodes
//    to exactly the input bytes (the footer has one encoding: fixed-width
//    fields, a checksum and the magic), which decode to the same fields;
//  - a handle that decodes has size <= kMaxBlockBytes, consumed between 2 and
//    kMaxEncodedBytes bytes, and re-encodes to a handle that decodes to the
//    same offset and size; a failed decode never claims more input.
//
// Thread safety: libFuzzer calls this from one thread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "lightning/status.h"
#include "lightning/table/format.h"

namespace {

using lightning::BlockHandle;
using lightning::Footer;

void FuzzFooter(std::string_view input) {
  const std::string_view tail = input.size() > lightning::kFooterBytes
                                    ? input.substr(input.size() - lightning::kFooterBytes)
                                    : input;
  Footer footer;
  const lightning::Status s = footer.DecodeFrom(tail, "fuzz.ldb", 0);
  if (!s.ok()) {
    if (!s.IsCorruption()) abort();
    return;
  }
  if (footer.filter.size > lightning::kMaxBlockBytes) abort();
  if (footer.index.size > lightning::kMaxBlockBytes) abort();
  if (footer.format_version != lightning::kTableFormatVersion) abort();
  std::string encoded;
  footer.EncodeTo(&encoded);
  if (encoded != tail) abort();
  Footer again;
  if (!again.DecodeFrom(encoded, "fuzz.ldb", 0).ok()) abort();
  if (again.filter.offset != footer.filter.offset || again.filter.size != footer.filter.size ||
      again.index.offset != footer.index.offset || again.index.size != footer.index.size) {
    abort();
  }
}

void FuzzHandles(std::string_view input) {
  while (!input.empty()) {
    std::string_view rest = input;
    BlockHandle handle;
    if (!handle.DecodeFrom(&rest)) {
      // A failed decode may leave the cursor anywhere, but never past the input.
      if (rest.data() < input.data() || rest.data() + rest.size() != input.data() + input.size()) {
        abort();
      }
      return;
    }
    const size_t consumed = input.size() - rest.size();
    if (consumed < 2 || consumed > BlockHandle::kMaxEncodedBytes) abort();
    if (handle.size > lightning::kMaxBlockBytes) abort();
    std::string encoded;
    handle.EncodeTo(&encoded);
    std::string_view view(encoded);
    BlockHandle again;
    if (!again.DecodeFrom(&view) || !view.empty()) abort();
    if (again.offset != handle.offset || again.size != handle.size) abort();
    input = rest;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzFooter(input);
  FuzzHandles(input);
  return 0;
}
