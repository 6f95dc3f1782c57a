// Escape and Unescape: the printable, binary-safe form of keys and values used
// by the `lightning` command-line tool.
//
// Escape maps any bytes to a single line of text that contains no tab and no
// newline, so "key<TAB>value" lines can be split unambiguously:
//   backslash -> \\    tab -> \t    newline -> \n
//   any other byte outside printable ASCII (0x20..0x7e) -> \xHH (lowercase hex)
// Unescape accepts exactly these escapes (hex digits in either case) and
// passes every other byte through, so Unescape(Escape(s)) == s for every s.
//
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lightning {

inline std::string Escape(std::string_view raw) {
  static constexpr char kHexDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte >= 0x20 && byte <= 0x7e) {
      out += c;
    } else {
      out += "\\x";
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0xf];
    }
  }
  return out;
}

// The value of one hex digit, or -1.
inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes `escaped` into *raw. Returns false, leaving *raw unspecified, for a
// backslash that does not start one of the escapes above.
inline bool Unescape(std::string_view escaped, std::string* raw) {
  raw->clear();
  raw->reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); i++) {
    if (escaped[i] != '\\') {
      *raw += escaped[i];
      continue;
    }
    if (++i == escaped.size()) return false;
    switch (escaped[i]) {
      case '\\':
        *raw += '\\';
        break;
      case 't':
        *raw += '\t';
        break;
      case 'n':
        *raw += '\n';
        break;
      case 'x': {
        if (escaped.size() - i < 3) return false;
        const int high = HexDigitValue(escaped[i + 1]);
        const int low = HexDigitValue(escaped[i + 2]);
        if (high < 0 || low < 0) return false;
        *raw += static_cast<char>(high * 16 + low);
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

// The tab-separated fields of one line of escaped text ("" gives one empty
// field). Escaped fields never contain a tab, so the split is exact.
inline std::vector<std::string_view> SplitTabs(std::string_view line) {
  std::vector<std::string_view> fields;
  for (size_t pos = 0;;) {
    size_t tab = line.find('\t', pos);
    fields.push_back(line.substr(pos, tab == std::string_view::npos ? tab : tab - pos));
    if (tab == std::string_view::npos) return fields;
    pos = tab + 1;
  }
}

}  // namespace lightning
