#include "state/kv_store.h"

#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/write_batch.h>
#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace state {

Result<std::optional<std::string>> MemKvStore::get(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemKvStore::write(const WriteBatch& batch) {
  batch.for_each([&](const WriteBatch::Op& op) {
    if (op.value)
      map_.insert_or_assign(std::string(op.key), std::string(*op.value));
    else if (auto it = map_.find(op.key); it != map_.end())
      map_.erase(it);
  });
  return Status::Ok();
}

Status MemKvStore::scan_from(std::string_view prefix, std::string_view start,
                             const Visitor& visit) const {
  for (auto it = map_.lower_bound(std::max(prefix, start));
       it != map_.end() && it->first.starts_with(prefix); ++it)
    if (!visit(it->first, it->second)) break;
  return Status::Ok();
}

namespace {

// The least key greater than every key that starts with prefix; empty when there is none (a
// prefix of 0xff bytes only: every key from prefix on starts with it).
std::string past_prefix(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

}  // namespace

Status MemKvStore::scan_reverse(std::string_view prefix, const Visitor& visit) const {
  const std::string end = past_prefix(prefix);
  auto it = end.empty() ? map_.end() : map_.lower_bound(end);
  while (it != map_.begin()) {
    --it;
    if (!it->first.starts_with(prefix)) break;
    if (!visit(it->first, it->second)) break;
  }
  return Status::Ok();
}

namespace {

// Every read checks its table block's checksum: a flipped bit on disk is a named storage error,
// not a record that decodes to something else.
leveldb::ReadOptions checked_reads() {
  leveldb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}

class LevelDbKvStore final : public KvStore {
 public:
  explicit LevelDbKvStore(std::unique_ptr<leveldb::DB> db) : db_(std::move(db)) {}

  Result<std::optional<std::string>> get(std::string_view key) const override {
    std::string value;
    leveldb::Status s = db_->Get(checked_reads(), leveldb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return make_error(Reason::StorageError, s.ToString());
    return std::optional<std::string>(std::move(value));
  }

  Status write(const WriteBatch& batch) override {
    // The native batch and the sort keep their capacity from one write to the next: a block's
    // batch runs to megabytes, which a fresh batch grew to by doubling every block.
    std::lock_guard lock(write_mutex_);
    // In key order (stable: a key's own operations keep their order, so the outcome is the
    // same): each memtable insert then walks the skiplist path the previous one just warmed,
    // instead of missing cache on every level for keys scattered by hashes.
    sorted_.resize(batch.size());
    for (std::size_t i = 0; i < sorted_.size(); ++i) sorted_[i] = {batch.op(i).key, i};
    std::stable_sort(sorted_.begin(), sorted_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    native_.Clear();
    for (const auto& [key_text, index] : sorted_) {
      const WriteBatch::Op op = batch.op(index);
      const leveldb::Slice key(key_text.data(), key_text.size());
      if (op.value)
        native_.Put(key, leveldb::Slice(op.value->data(), op.value->size()));
      else
        native_.Delete(key);
    }
    leveldb::WriteOptions options;
    options.sync = true;  // a committed block survives power loss, not only a process crash
    leveldb::Status s = db_->Write(options, &native_);
    if (!s.ok()) return make_error(Reason::StorageError, s.ToString());
    return Status::Ok();
  }

  Status scan_from(std::string_view prefix, std::string_view start,
                   const Visitor& visit) const override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(checked_reads()));
    const std::string_view from = std::max(prefix, start);
    for (it->Seek(leveldb::Slice(from.data(), from.size())); it->Valid(); it->Next()) {
      std::string_view key(it->key().data(), it->key().size());
      if (!key.starts_with(prefix)) break;
      if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
    }
    if (!it->status().ok()) return make_error(Reason::StorageError, it->status().ToString());
    return Status::Ok();
  }

  Status scan_reverse(std::string_view prefix, const Visitor& visit) const override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(checked_reads()));
    const std::string end = past_prefix(prefix);
    if (end.empty()) {
      it->SeekToLast();
    } else {
      it->Seek(end);  // the first key past the prefix's keys: step back from it
      if (it->Valid())
        it->Prev();
      else if (it->status().ok())
        it->SeekToLast();  // no key past them: from the last
    }
    for (; it->Valid(); it->Prev()) {
      std::string_view key(it->key().data(), it->key().size());
      if (!key.starts_with(prefix)) break;
      if (!visit(key, std::string_view(it->value().data(), it->value().size()))) break;
    }
    if (!it->status().ok()) return make_error(Reason::StorageError, it->status().ToString());
    return Status::Ok();
  }

 private:
  std::unique_ptr<leveldb::DB> db_;
  std::mutex write_mutex_;  // guards the two buffers below
  std::vector<std::pair<std::string_view, std::size_t>> sorted_;
  leveldb::WriteBatch native_;
};

}  // namespace

Result<std::unique_ptr<KvStore>> open_leveldb(const std::string& path, bool create_if_missing) {
  // Bloom filters: lookups of transaction hashes (chain_getTx, replays) mostly miss. Shared by
  // every database of the process (LevelDB wants it to outlive them).
  static const leveldb::FilterPolicy* const bloom = leveldb::NewBloomFilterPolicy(10);
  leveldb::Options options;
  options.create_if_missing = create_if_missing;
  options.paranoid_checks = true;  // report damage instead of serving it
  options.filter_policy = bloom;
  options.write_buffer_size = 32 << 20;  // a block is ~1 MB at load: fewer level-0 compactions
  // Much of what is stored is signatures, hashes and packed integers, which Snappy cannot
  // shrink; compressing every flush and compaction cost ~1% of the node's CPU under load.
  options.compression = leveldb::kNoCompression;
  // 64 KiB table blocks instead of 4 KiB: building tables at each memtable flush cost LevelDB's
  // thread ~0.4 us less per committed order under load (1.1-1.3 against 1.5-1.9 us, three
  // interleaved pairs), and a transaction lookup cost the same (~4-5 us from the page cache).
  options.block_size = 64 << 10;
  leveldb::DB* raw = nullptr;
  leveldb::Status s = leveldb::DB::Open(options, path, &raw);
  if (!s.ok())
    return make_error(Reason::StorageError, "cannot open database " + path + ": " + s.ToString());
  // LevelDB starts its one background (compaction) thread on the first task scheduled, and the
  // thread inherits the scheduling thread's priority. Started here, by the opener, rather than
  // later by a lookup on a lower-priority RPC thread (perpd's rpcThreadNice).
  leveldb::Env::Default()->Schedule([](void*) {}, nullptr);
  return std::unique_ptr<KvStore>(
      std::make_unique<LevelDbKvStore>(std::unique_ptr<leveldb::DB>(raw)));
}

}  // namespace state
