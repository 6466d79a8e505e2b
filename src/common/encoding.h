#pragma once
// Little-endian fixed-width integers, varints and length-prefixed byte strings: the
// building blocks of every on-disk and replicated format. Writers append to a std::string;
// Reader consumes a string_view and fails (returns false) rather than reading past its end.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cmq {

inline void PutFixed32(std::string& out, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out.append(buf, 4);
}

inline void PutFixed64(std::string& out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  out.append(buf, 8);
}

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

inline void EncodeFixed32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

inline void EncodeFixed64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}

inline void PutVarint64(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Zig-zag so that small negative numbers stay short.
inline void PutVarintSigned64(std::string& out, int64_t v) {
  PutVarint64(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

inline void PutLengthPrefixed(std::string& out, std::string_view s) {
  PutVarint64(out, s.size());
  out.append(s.data(), s.size());
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool Fixed32(uint32_t& v) {
    if (in_.size() < 4) return false;
    v = DecodeFixed32(in_.data());
    in_.remove_prefix(4);
    return true;
  }
  bool Fixed64(uint64_t& v) {
    if (in_.size() < 8) return false;
    v = DecodeFixed64(in_.data());
    in_.remove_prefix(8);
    return true;
  }
  bool Varint64(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (in_.empty()) return false;
      uint8_t byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return false;
  }
  bool VarintSigned64(int64_t& v) {
    uint64_t u;
    if (!Varint64(u)) return false;
    v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
    return true;
  }
  template <typename T>
  bool Varint(T& v) {
    uint64_t u;
    if (!Varint64(u)) return false;
    v = static_cast<T>(u);
    return static_cast<uint64_t>(v) == u;
  }
  // The returned view points into the reader's input.
  bool LengthPrefixed(std::string_view& s) {
    uint64_t n;
    if (!Varint64(n) || n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool Bytes(size_t n, std::string_view& s) {
    if (n > in_.size()) return false;
    s = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }

  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }
  std::string_view rest() const { return in_; }

 private:
  std::string_view in_;
};

}  // namespace cmq
