// CRC32C (Castagnoli), the checksum of every log record, block, page and footer.
//
// Stored checksums are masked (rotated and offset) so that a CRC computed over
// data that itself contains CRCs does not degenerate.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lightning::crc32c {

// CRC32C of data, continuing from the CRC `init` of preceding bytes. Uses the
// CPU's crc32 instruction where there is one (x86-64 with SSE4.2).
uint32_t Extend(uint32_t init, const char* data, size_t n);
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

inline constexpr uint32_t kMaskDelta = 0xa282ead8u;
inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }
inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

// The two implementations Extend chooses between, for the tests.
namespace internal {
uint32_t ExtendPortable(uint32_t init, const char* data, size_t n);
bool HardwareAvailable();
// REQUIRES: HardwareAvailable() (elsewhere it is ExtendPortable).
uint32_t ExtendHardware(uint32_t init, const char* data, size_t n);
}  // namespace internal

}  // namespace lightning::crc32c
