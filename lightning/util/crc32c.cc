// CRC32C two ways, with the same answers (crc32c_test.cc holds them equal):
//  - portable: table-driven "slicing by 8", eight 256-entry tables built at
//    compile time, so each 8-byte step costs eight lookups and no branches;
//  - x86-64 with SSE4.2: the crc32 instruction, 8 bytes per instruction.
// Extend picks the hardware path once, at first use, when the CPU has it.
#include "lightning/util/crc32c.h"

#include <array>
#include <cstring>

#include "lightning/util/coding.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace lightning::crc32c {
namespace {

constexpr uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (int s = 1; s < 8; s++) {
    for (uint32_t i = 0; i < 256; i++) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

using ExtendFn = uint32_t (*)(uint32_t, const char*, size_t);

ExtendFn Choose() {
  return internal::HardwareAvailable() ? internal::ExtendHardware : internal::ExtendPortable;
}

}  // namespace

namespace internal {

uint32_t ExtendPortable(uint32_t init, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint32_t c = ~init;
  while (n >= 8) {
    uint32_t lo = DecodeFixed32(reinterpret_cast<const char*>(p)) ^ c;
    uint32_t hi = DecodeFixed32(reinterpret_cast<const char*>(p + 4));
    c = kTables[7][lo & 0xff] ^ kTables[6][(lo >> 8) & 0xff] ^ kTables[5][(lo >> 16) & 0xff] ^
        kTables[4][lo >> 24] ^ kTables[3][hi & 0xff] ^ kTables[2][(hi >> 8) & 0xff] ^
        kTables[1][(hi >> 16) & 0xff] ^ kTables[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = kTables[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
bool HardwareAvailable() { return __builtin_cpu_supports("sse4.2"); }

// Compiled for SSE4.2 alone; only called when HardwareAvailable().
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t init, const char* data,
                                                          size_t n) {
  uint64_t c = ~init;
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, data, 8);  // unaligned; little-endian, as the instruction wants
    c = _mm_crc32_u64(c, word);
    data += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, static_cast<unsigned char>(*data++));
  return ~c32;
}
#else
bool HardwareAvailable() { return false; }
uint32_t ExtendHardware(uint32_t init, const char* data, size_t n) {
  return ExtendPortable(init, data, n);
}
#endif

}  // namespace internal

uint32_t Extend(uint32_t init, const char* data, size_t n) {
  static const ExtendFn extend = Choose();
  return extend(init, data, n);
}

}  // namespace lightning::crc32c
