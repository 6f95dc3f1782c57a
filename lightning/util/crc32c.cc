// CRC32C two ways, with the same answers (crc32c_test.cc holds them equal):
//  - portable: table-driven "slicing by 8", eight 256-entry tables built at
//    compile time, so each 8-byte step costs eight lookups and no branches;
//  - x86-64 with SSE4.2: the crc32 instruction, 8 bytes per instruction, on
//    three independent streams at once for long inputs (the instruction
//    takes three cycles, but a new one can start every cycle), joined by
//    CRC arithmetic: crc(A then B) = crc(A) * x^(8 * |B|) mod P  xor  crc(B
//    from zero).
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

// a * b mod P, for polynomials in the reflected bit order of the CRC
// register (bit 31 is x^0).
constexpr uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b * x
  }
  return product;
}

// x^n mod P.
constexpr uint32_t XPowModP(uint64_t n) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 30;  // x^1, then x^2, x^4, ...
  for (; n != 0; n >>= 1) {
    if (n & 1) result = MultModP(square, result);
    square = MultModP(square, square);
  }
  return result;
}

// The hardware path's stream length, and the factor that moves a register
// past that many bytes.
constexpr size_t kStreamBytes = 1024;
constexpr uint32_t kStreamShift = XPowModP(8 * kStreamBytes);

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
  auto word = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);  // unaligned; little-endian, as the instruction wants
    return w;
  };
  uint64_t c = ~init;
  while (n >= 3 * kStreamBytes) {
    uint64_t c1 = 0, c2 = 0;
    for (size_t i = 0; i < kStreamBytes; i += 8) {
      c = _mm_crc32_u64(c, word(data + i));
      c1 = _mm_crc32_u64(c1, word(data + kStreamBytes + i));
      c2 = _mm_crc32_u64(c2, word(data + 2 * kStreamBytes + i));
    }
    c = MultModP(kStreamShift, static_cast<uint32_t>(c)) ^ c1;
    c = MultModP(kStreamShift, static_cast<uint32_t>(c)) ^ c2;
    data += 3 * kStreamBytes;
    n -= 3 * kStreamBytes;
  }
  while (n >= 8) {
    c = _mm_crc32_u64(c, word(data));
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
