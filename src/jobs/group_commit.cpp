#include "jobs/group_commit.h"

#include <algorithm>
#include <exception>
#include <string>

namespace crm::jobs {
namespace {

Status RunGuarded(const std::function<Status(storage::Connection&)>& fn, storage::Connection& c) {
  try {
    return fn(c);
  } catch (const std::exception& e) {
    return Internal(std::string("database write threw: ") + e.what());
  }
}

}  // namespace

Status GroupCommitter::Write(const std::function<Status(storage::Connection&)>& fn) {
  PendingWrite mine{&fn};
  std::unique_lock lock(mu_);
  pending_.push_back(&mine);
  while (!mine.done) {
    if (leader_active_) {
      cv_.wait(lock);
      continue;
    }
    // Lead: take what is queued (this write included, unless a previous leader took it).
    leader_active_ = true;
    size_t n = std::min(pending_.size(), max_group_);
    std::vector<PendingWrite*> group(pending_.begin(), pending_.begin() + n);
    pending_.erase(pending_.begin(), pending_.begin() + n);
    lock.unlock();
    if (!group.empty()) RunGroup(group);
    lock.lock();
    for (PendingWrite* w : group) w->done = true;
    leader_active_ = false;
    cv_.notify_all();
  }
  return std::move(mine.result);
}

void GroupCommitter::RunGroup(const std::vector<PendingWrite*>& group) {
  if (group.size() == 1) {
    group[0]->result =
        store_.Transaction([&](storage::Connection& c) { return RunGuarded(*group[0]->fn, c); });
    return;
  }
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    for (PendingWrite* w : group) {
      CRM_TRY(c.Exec("SAVEPOINT grouped_write"));
      w->result = RunGuarded(*w->fn, c);
      if (!w->result.ok()) CRM_TRY(c.Exec("ROLLBACK TO SAVEPOINT grouped_write"));
      CRM_TRY(c.Exec("RELEASE SAVEPOINT grouped_write"));
    }
    return OkStatus();
  });
  if (!st.ok())  // nothing of the group was committed
    for (PendingWrite* w : group)
      if (w->result.ok()) w->result = st.error();
}

}  // namespace crm::jobs
