// `crm-ai serve`: the HTTP server (and, on the embedded default, the in-process job workers).
#include <signal.h>

#include <algorithm>
#include <thread>

#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "cli/subsystems.h"
#include "common/log.h"

namespace crm::cli {

int RunServe(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {}, {});
  if (!args.ok()) return Fail(args.error().message);
  BlockStopSignals();  // before any thread starts, so only the waiting thread receives them

  auto app = OpenFromEnvironment(true);
  if (!app.ok()) return Fail(app.error().message);
  auto& a = **app;
  auto subsystems = StartSubsystems(a, /*serve=*/true);
  if (!subsystems.ok()) return Fail(subsystems.error().message);

  http::ServerOptions so;
  so.host = a.config.app_host;
  so.port = a.config.app_port;
  so.io_threads = a.config.http_threads;
  so.handler_threads = std::max(4, a.config.http_threads * 2);
  // The address seen in logs, sessions, throttling and the loopback-only /metrics is the
  // client's, not the proxy's.
  so.trusted_proxies = a.config.trusted_proxies;
  // A refused upload of the largest allowed size is still read to its end (lingering close).
  so.linger_max_bytes = std::max<uint64_t>(so.linger_max_bytes,
                                           static_cast<uint64_t>(a.config.upload_max_bytes) + (1 << 20));
  http::Server server(so, api::BuildRouter(a), api::BuildMiddleware(a));
  auto st = server.Start();
  if (!st.ok()) return Fail(st.error().message);
  log::Info("listening", {{"host", so.host}, {"port", server.port()}, {"url", a.config.app_url},
                          {"data_dir", a.config.data_dir}});

  std::thread waiter([&] {
    int sig = WaitForStopSignal();
    log::Info("stopping: finishing requests in flight", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    server.Stop();
  });
  server.Wait();
  (*subsystems)->Stop();
  log::Info("stopped");
  // The waiter is blocked in sigwait when Stop() came from elsewhere; wake it.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return 0;
}

}  // namespace crm::cli
