// Key-value stores behind one small interface (as LevelDB's own): an in-memory store for tests
// and simulations, and LevelDB for nodes. Keys and values are byte strings; scans run in
// ascending byte order of keys; a WriteBatch applies atomically.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/result.h"

namespace state {

// Operations to apply atomically, in order. Keys and values live in one buffer (as in LevelDB's
// own batch): a block writes ~one key per order, and two heap strings per key showed up in
// profiles.
class WriteBatch {
 public:
  struct Op {
    std::string_view key;
    std::optional<std::string_view> value;  // nullopt = delete
  };

  void put(std::string_view key, std::string_view value) { add(key, value, true); }
  void del(std::string_view key) { add(key, {}, false); }
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  void clear() {  // keeps capacity
    data_.clear();
    entries_.clear();
  }
  Op op(std::size_t i) const {
    const Entry& e = entries_[i];
    std::string_view key(data_.data() + e.offset, e.key_len);
    if (!e.is_put) return {key, std::nullopt};
    return {key, std::string_view(data_.data() + e.offset + e.key_len, e.value_len)};
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < entries_.size(); ++i) f(op(i));
  }

 private:
  struct Entry {
    std::size_t offset;
    std::uint32_t key_len;
    std::uint32_t value_len;
    bool is_put;
  };
  void add(std::string_view key, std::string_view value, bool is_put) {
    entries_.push_back({data_.size(), static_cast<std::uint32_t>(key.size()),
                        static_cast<std::uint32_t>(value.size()), is_put});
    data_.append(key);
    data_.append(value);
  }
  std::string data_;
  std::vector<Entry> entries_;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // The value at key, nullopt when absent; StorageError when the store fails.
  virtual Result<std::optional<std::string>> get(std::string_view key) const = 0;
  // Applies every operation of the batch, in order, atomically (all or none).
  virtual Status write(const WriteBatch& batch) = 0;
  // Calls visit(key, value) for each key starting with prefix in ascending order until visit
  // returns false.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  Status scan(std::string_view prefix, const Visitor& visit) const {
    return scan_from(prefix, prefix, visit);
  }
  // The same from the first key at or after start (a scan that resumes where it stopped).
  virtual Status scan_from(std::string_view prefix, std::string_view start,
                           const Visitor& visit) const = 0;
  // The same in descending order (the newest first, for keys that end in a big-endian height).
  virtual Status scan_reverse(std::string_view prefix, const Visitor& visit) const = 0;
};

class MemKvStore final : public KvStore {
 public:
  Result<std::optional<std::string>> get(std::string_view key) const override;
  Status write(const WriteBatch& batch) override;
  Status scan_from(std::string_view prefix, std::string_view start,
                   const Visitor& visit) const override;
  Status scan_reverse(std::string_view prefix, const Visitor& visit) const override;
  std::size_t size() const { return map_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> map_;
};

// Opens (or with create_if_missing, creates) a LevelDB database at path. A missing or damaged
// database is StorageError naming the path and LevelDB's reason.
Result<std::unique_ptr<KvStore>> open_leveldb(const std::string& path, bool create_if_missing);

}  // namespace state
