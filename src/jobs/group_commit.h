// GroupCommitter: many threads' small write transactions share one commit.
//
// With SQLite in WAL mode and synchronous=FULL, each commit costs an fsync, which dwarfs the work
// of a queue operation. Write(fn) behaves like Store::Transaction(fn) — fn's statements commit
// together or not at all, and its own error is returned — but a thread arriving while another
// commit is in progress queues its fn; the next leader runs every queued fn in one transaction,
// each inside its own savepoint, so a failing fn is rolled back alone. If the shared commit
// fails, every fn of the group gets that error.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <vector>

#include "common/result.h"
#include "storage/store.h"

namespace crm::jobs {

class GroupCommitter {
 public:
  explicit GroupCommitter(storage::Store& store, size_t max_group = 64)
      : store_(store), max_group_(max_group) {}

  Status Write(const std::function<Status(storage::Connection&)>& fn);

 private:
  struct PendingWrite {
    const std::function<Status(storage::Connection&)>* fn;
    Status result = OkStatus();
    bool done = false;
  };
  void RunGroup(const std::vector<PendingWrite*>& group);

  storage::Store& store_;
  size_t max_group_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<PendingWrite*> pending_;
  bool leader_active_ = false;
};

}  // namespace crm::jobs
