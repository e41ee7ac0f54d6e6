// The HTTP server: Boost.Beast over Asio, one session object per connection.
//
// Request path: the I/O thread reads the headers (with a deadline) and matches the route, the
// handler pool runs the middleware (request id, authentication, role, CSRF, rate limits), the I/O
// thread then reads the body (into memory with a size limit, or streamed into the route's
// BodySink), the handler pool runs the handler, and the I/O thread writes the response (head and
// body in one write) with the security headers and queues one JSON access-log line. The I/O
// threads run no handler except those of routes marked `light` (a few indexed reads or a cache,
// no body), whose whole request stays on the I/O thread. See README.md.
//
// Stop() is graceful: stop accepting, let in-flight requests finish (up to a deadline), exit.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/forwarded.h"
#include "http/router.h"

namespace crm::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                       // 0 = an ephemeral port (see Server::port())
  int io_threads = 2;
  int handler_threads = 8;
  std::chrono::seconds header_timeout{15};   // slow headers → connection closed
  std::chrono::seconds body_idle_timeout{30};// no body bytes for this long → closed
  std::chrono::seconds keepalive_timeout{60};// idle keep-alive connection → closed
  std::chrono::seconds shutdown_grace{30};
  size_t max_header_bytes = 16 * 1024;
  // Lingering close (as nginx's lingering_close): after a response that refuses a request whose
  // body has not been read (401, 403, 404, 413, 415, 429...), the connection is half-closed and
  // the rest of the body is read and thrown away, so that a client still writing its upload
  // reads the answer instead of a reset (EPIPE). Bounded in time, bytes and connections: past
  // any bound the connection is closed at once.
  std::chrono::seconds linger_time{10};          // whole lingering phase
  std::chrono::milliseconds linger_idle{2000};   // no byte for this long → closed
  uint64_t linger_max_bytes = 256ull << 20;      // more than UPLOAD_MAX_BYTES' default
  int linger_max_connections = 128;              // lingering at once; more → closed at once
  // Reverse proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES); Request::remote_ip is
  // the client they name. Empty: the peer is the client.
  TrustedProxies trusted_proxies;
};

// What the server tells the application of each request once its answer is out (metrics).
struct FinishedRequest {
  std::string_view method;
  std::string_view route;  // the route's pattern ("/api/clients/{id}"); "unmatched" when none
  int status = 0;
  double seconds = 0;          // from the first header byte to the end of the answer
  uint64_t streamed_bytes = 0; // body bytes written to a streaming sink (uploads)
};

// Hooks the application plugs into the middleware.
struct Middleware {
  // Identifies the caller from cookies / Authorization / X-API-Key. No credentials → an
  // unauthenticated Principal; wrong credentials → an error (401).
  std::function<Result<Principal>(const Request&)> authenticate;
  // Returns seconds to wait when the caller is over its rate limit.
  std::function<std::optional<int>(const Request&)> rate_limit;
  // Called on the I/O thread after each request; must be quick and must not throw.
  std::function<void(const FinishedRequest&)> finished;
};

class Server {
 public:
  Server(ServerOptions options, Router router, Middleware middleware);
  ~Server();
  // Binds and starts the threads; returns once listening.
  Status Start();
  // Blocks until Stop() (from a signal handler thread or another thread) has completed.
  void Wait();
  void Stop();
  int port() const;
  const Router& router() const;
  bool stopping() const;

 struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding of paths and query strings ('+' as space in queries).
std::string PercentDecode(std::string_view s, bool plus_as_space);
std::multimap<std::string, std::string> ParseQuery(std::string_view q);

}  // namespace crm::http
