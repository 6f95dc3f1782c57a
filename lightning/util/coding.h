// Little-endian fixed-width and varint encodings used by every on-disk format.
//
// Encoders append to a std::string. Decoders are pure functions over a byte
// span: they consume from the front of `input` and return false (leaving the
// input unspecified) when the bytes are truncated or malformed. They never read
// past the span, whatever the bytes say.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace lightning {

inline constexpr int kMaxVarint32Bytes = 5;
inline constexpr int kMaxVarint64Bytes = 10;

// Fixed-width values are stored little-endian. On a little-endian host each
// is one unaligned load or store (memcpy); elsewhere it is assembled byte by byte.
template <class T>
inline void EncodeFixed(char* dst, T v) {
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(dst, &v, sizeof(T));
  } else {
    for (size_t i = 0; i < sizeof(T); i++) dst[i] = static_cast<char>(v >> (8 * i));
  }
}
template <class T>
inline T DecodeFixed(const char* p) {
  T v = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&v, p, sizeof(T));
  } else {
    for (size_t i = 0; i < sizeof(T); i++) v |= T{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  return v;
}
inline void EncodeFixed16(char* dst, uint16_t v) { EncodeFixed(dst, v); }
inline void EncodeFixed32(char* dst, uint32_t v) { EncodeFixed(dst, v); }
inline void EncodeFixed64(char* dst, uint64_t v) { EncodeFixed(dst, v); }
inline uint16_t DecodeFixed16(const char* p) { return DecodeFixed<uint16_t>(p); }
inline uint32_t DecodeFixed32(const char* p) { return DecodeFixed<uint32_t>(p); }
inline uint64_t DecodeFixed64(const char* p) { return DecodeFixed<uint64_t>(p); }

void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
// varint32 length followed by the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view value);

// Writes a varint into dst (at least kMaxVarint64Bytes long); returns the end.
char* EncodeVarint32(char* dst, uint32_t v);
char* EncodeVarint64(char* dst, uint64_t v);
int VarintLength(uint64_t v);

bool GetFixed32(std::string_view* input, uint32_t* v);
bool GetFixed64(std::string_view* input, uint64_t* v);
bool GetVarint32(std::string_view* input, uint32_t* v);
bool GetVarint64(std::string_view* input, uint64_t* v);
bool GetLengthPrefixed(std::string_view* input, std::string_view* value);

// Decodes a varint from [p, limit); returns the byte after it, or nullptr if
// it is truncated or longer than allowed. The one-byte case (values below
// 128: most lengths in blocks and records) is inline; longer ones take
// DecodeVarint32Long.
const char* DecodeVarint32Long(const char* p, const char* limit, uint32_t* v);
inline const char* DecodeVarint32(const char* p, const char* limit, uint32_t* v) {
  if (p < limit && (static_cast<unsigned char>(*p) & 0x80) == 0) {
    *v = static_cast<unsigned char>(*p);
    return p + 1;
  }
  return DecodeVarint32Long(p, limit, v);
}
const char* DecodeVarint64(const char* p, const char* limit, uint64_t* v);

}  // namespace lightning
