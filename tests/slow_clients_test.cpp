// Slow clients (slowloris): hundreds of loopback connections send their headers a byte at a time
// for 20 s while a normal client keeps calling the API. The normal client's p99 stays under
// 100 ms, and the server cuts the slow connections off at its header deadline.
#include <sys/resource.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "test_server.h"

namespace crm::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSlowConnections = 300;
constexpr auto kDuration = std::chrono::seconds(20);

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Timed GETs of a list page, each on its own connection, until `until`.
std::vector<double> NormalClient(int port, const std::string& key, Clock::time_point until,
                                 int* errors) {
  std::vector<double> ms;
  while (Clock::now() < until) {
    auto t0 = Clock::now();
    auto r = Send(port, {"GET", "/api/clients?limit=50", "", Bearer(key)});
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (r.status != 200) ++*errors;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ms;
}

TEST(SlowClients, ANormalClientKeepsItsLatencyWhileHundredsSendHeadersByteByByte) {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 2 * kSlowConnections + 64) {
    rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, 4 * kSlowConnections);
    setrlimit(RLIMIT_NOFILE, &rl);  // inherited by the server started below
  }
  TestServer s({{"RATE_LIMIT_API", "off"}, {"QUEUE_WORKERS", "0"}});
  ASSERT_TRUE(s.Start()) << s.log();
  TestFirm f = CreateFirm(s, "Cabinet lent");
  for (int i = 0; i < 50; ++i)
    s.Call("POST", "/api/clients", {{"name", "Client " + std::to_string(i)}}, Bearer(f.api_key));

  // Baseline, same run: 3 s without slow clients.
  int errors = 0;
  auto baseline =
      NormalClient(s.port(), f.api_key, Clock::now() + std::chrono::seconds(3), &errors);

  std::vector<RawConnection> conns;
  for (int i = 0; i < kSlowConnections; ++i) {
    RawConnection c(s.port(), /*non_blocking=*/true);
    if (c.ok()) conns.push_back(std::move(c));
  }
  ASSERT_EQ(conns.size(), static_cast<size_t>(kSlowConnections));
  const std::string head =
      "GET /api/clients HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(4000, 'a');
  std::atomic<bool> stop{false};
  std::atomic<int> cut{0};
  std::atomic<uint64_t> bytes{0};
  auto start = Clock::now();
  std::thread slow([&] {
    std::vector<size_t> pos(conns.size(), 0);
    std::vector<bool> open(conns.size(), true);
    while (!stop) {
      for (size_t i = 0; i < conns.size(); ++i) {
        if (!open[i]) continue;
        char c = head[pos[i] % head.size()];
        ssize_t n = conns[i].TrySend(&c, 1);
        if (n < 0 && errno != EAGAIN) open[i] = false;
        std::string ignored;
        ssize_t got = conns[i].TryRead(&ignored);
        if (got == 0 || (got < 0 && errno != EAGAIN)) open[i] = false;
        if (!open[i]) ++cut;
        if (n == 1) {
          ++pos[i];
          ++bytes;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // ~10 bytes/s per connection
    }
  });
  auto loaded = NormalClient(s.port(), f.api_key, start + kDuration, &errors);
  stop = true;
  slow.join();
  conns.clear();

  double p50 = Percentile(loaded, 0.5), p99 = Percentile(loaded, 0.99),
         base99 = Percentile(baseline, 0.99);
  std::printf(
      "slow clients: %d connections, %llu header bytes sent a byte at a time over %lld s; %d cut "
      "off by the "
      "server's header deadline\nnormal client: %zu requests, p50 %.1f ms, p99 %.1f ms (alone, "
      "same run: "
      "%zu requests, p99 %.1f ms), %d errors\n",
      kSlowConnections, static_cast<unsigned long long>(bytes.load()),
      static_cast<long long>(kDuration.count()), cut.load(), loaded.size(), p50, p99,
      baseline.size(), base99, errors);
  EXPECT_EQ(errors, 0);
  EXPECT_GE(loaded.size(), 200u);
  EXPECT_LT(p99, 100.0);
  // The header deadline (15 s) ends every slow connection within the 20 s.
  EXPECT_EQ(cut.load(), kSlowConnections);
  EXPECT_EQ(s.Get("/health/live").status, 200);
}

}  // namespace
}  // namespace crm::testing
