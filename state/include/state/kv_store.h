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

class WriteBatch {
 public:
  void put(std::string_view key, std::string_view value) { ops_.push_back({std::string(key), std::string(value)}); }
  void del(std::string_view key) { ops_.push_back({std::string(key), std::nullopt}); }
  bool empty() const { return ops_.empty(); }
  std::size_t size() const { return ops_.size(); }

  struct Op {
    std::string key;
    std::optional<std::string> value;  // nullopt = delete
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
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
  virtual Status scan(std::string_view prefix, const Visitor& visit) const = 0;
};

class MemKvStore final : public KvStore {
 public:
  Result<std::optional<std::string>> get(std::string_view key) const override;
  Status write(const WriteBatch& batch) override;
  Status scan(std::string_view prefix, const Visitor& visit) const override;
  std::size_t size() const { return map_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> map_;
};

// Opens (or with create_if_missing, creates) a LevelDB database at path. A missing or damaged
// database is StorageError naming the path and LevelDB's reason.
Result<std::unique_ptr<KvStore>> open_leveldb(const std::string& path, bool create_if_missing);

}  // namespace state
