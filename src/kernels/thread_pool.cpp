// ThreadPool: persistent workers that spin briefly between jobs (the decoder submits thousands of
// small jobs per second) and then sleep on a condition variable.
//
// The caller never waits for a worker that has not started on the current job: workers announce
// themselves (`entered`) and then check that the job is still open; the caller closes the job when
// it runs out of indices itself and waits only for the workers that got in. A descheduled or
// sleeping worker therefore cannot delay a Run, which matters when the machine is shared.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace crm::kernels {
namespace {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spin iterations before a worker goes to sleep (a pause is ~10-100 ns: roughly 0.1-1 ms).
constexpr int kSpinIterations = 20000;

}  // namespace

struct ThreadPool::Impl {
  int threads = 1;
  std::vector<std::thread> workers;

  std::mutex mu;
  std::condition_variable wake;
  bool stop = false;  // guarded by mu

  std::atomic<uint64_t> generation{0};  // bumped once per Run
  std::atomic<bool> open{false};        // the current job still accepts workers
  std::atomic<int> entered{0};          // workers inside the current job
  std::atomic<int64_t> next{0};         // next index to hand out
  int64_t n = 0;
  const std::function<void(int64_t)>* fn = nullptr;

  void Work() {
    for (;;) {
      const int64_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      (*fn)(i);
    }
  }

  void WorkerLoop() {
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = generation.load(std::memory_order_acquire);
      for (int s = 0; g == seen && s < kSpinIterations; ++s) {
        CpuRelax();
        g = generation.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait(lock, [&] {
          return stop || generation.load(std::memory_order_acquire) != seen;
        });
        if (stop) return;
        g = generation.load(std::memory_order_acquire);
      }
      seen = g;
      // Dekker-style handshake with Run(): both sides use sequentially consistent operations,
      // so either this worker sees the job closed, or the caller sees it entered and waits.
      entered.fetch_add(1, std::memory_order_seq_cst);
      if (open.load(std::memory_order_seq_cst)) Work();
      entered.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
};

ThreadPool::ThreadPool(int threads) : impl_(new Impl) {
  impl_->threads = std::max(1, threads);
  for (int t = 1; t < impl_->threads; ++t) {
    impl_->workers.emplace_back([this] { impl_->WorkerLoop(); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  for (auto& w : impl_->workers) w.join();
  delete impl_;
}

int ThreadPool::size() const { return impl_->threads; }

void ThreadPool::Run(int64_t n, const std::function<void(int64_t)>& fn) {
  if (n <= 0) return;
  Impl& p = *impl_;
  if (n == 1 || p.threads == 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
    return;
  }
  p.fn = &fn;
  p.n = n;
  p.next.store(0, std::memory_order_relaxed);
  p.open.store(true, std::memory_order_seq_cst);
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.generation.fetch_add(1, std::memory_order_release);
  }
  p.wake.notify_all();
  p.Work();
  p.open.store(false, std::memory_order_seq_cst);
  // Workers that got in may still be finishing an index; fn must outlive them.
  for (int s = 0; p.entered.load(std::memory_order_seq_cst) != 0; ++s) {
    if (s < kSpinIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace crm::kernels
