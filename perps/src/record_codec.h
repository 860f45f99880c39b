// Fixed-width big-endian records for the exchange's state keys. Private to perps/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "state/bytes.h"

namespace perps::detail {

class RecordWriter {
 public:
  RecordWriter() : out_(own_) { own_.reserve(96); }
  // Writes into buffer (cleared first), whose capacity is reused from record to record.
  explicit RecordWriter(std::string& buffer) : out_(buffer) { buffer.clear(); }
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  RecordWriter& u8(std::uint8_t v) {
    out_.push_back(static_cast<char>(v));
    return *this;
  }
  RecordWriter& u32(std::uint32_t v) { return be(v, 4); }
  RecordWriter& u64(std::uint64_t v) { return be(v, 8); }
  RecordWriter& i64(std::int64_t v) { return be(static_cast<std::uint64_t>(v), 8); }
  template <std::size_t N>
  RecordWriter& bytes(const state::FixedBytes<N>& v) {
    out_.append(reinterpret_cast<const char*>(v.data()), N);
    return *this;
  }
  std::string take() { return std::move(out_); }
  std::string_view view() const { return out_; }

 private:
  RecordWriter& be(std::uint64_t v, int n) {
    char buf[8];
    for (int i = 0; i < n; ++i) buf[i] = static_cast<char>(v >> (8 * (n - 1 - i)));
    out_.append(buf, static_cast<std::size_t>(n));
    return *this;
  }
  std::string own_;
  std::string& out_;
};

// Reads what RecordWriter wrote; ok() turns false on any short read and stays false.
class RecordReader {
 public:
  explicit RecordReader(std::string_view in) : in_(in) {}
  std::uint8_t u8() { return static_cast<std::uint8_t>(be(1)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(be(4)); }
  std::uint64_t u64() { return be(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(be(8)); }
  template <std::size_t N>
  state::FixedBytes<N> bytes() {
    state::FixedBytes<N> v;
    if (in_.size() < N) {
      ok_ = false;
      return v;
    }
    std::memcpy(v.data(), in_.data(), N);
    in_.remove_prefix(N);
    return v;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && in_.empty(); }
  std::size_t remaining() const { return in_.size(); }  // bytes not read yet

 private:
  std::uint64_t be(std::size_t n) {
    if (in_.size() < n) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < n; ++i) v = v << 8 | static_cast<std::uint8_t>(in_[i]);
    in_.remove_prefix(n);
    return v;
  }
  std::string_view in_;
  bool ok_ = true;
};

template <std::size_t N>
std::string tagged_key(char tag, const state::FixedBytes<N>& id) {
  std::string key(1, tag);
  key.append(reinterpret_cast<const char*>(id.data()), N);
  return key;
}
inline std::string tagged_key(char tag, std::uint64_t id, int width) {
  std::string key(1, tag);
  for (int i = width - 1; i >= 0; --i) key.push_back(static_cast<char>(id >> (8 * i)));
  return key;
}

}  // namespace perps::detail
