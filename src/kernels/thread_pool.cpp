// ThreadPool: persistent workers that spin briefly between jobs (the decoder submits thousands of
// small jobs per second) and then sleep on a condition variable.
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
  std::atomic<int64_t> next{0};         // next index to hand out
  std::atomic<int> busy{0};             // workers not yet done with the current generation
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
      Work();
      busy.fetch_sub(1, std::memory_order_acq_rel);
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
  p.busy.store(static_cast<int>(p.workers.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(p.mu);
    p.generation.fetch_add(1, std::memory_order_release);
  }
  p.wake.notify_all();
  p.Work();
  // Every worker must have left Work() before fn goes out of scope.
  for (int s = 0; p.busy.load(std::memory_order_acquire) != 0; ++s) {
    if (s < kSpinIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
}

}  // namespace crm::kernels
