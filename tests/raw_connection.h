// A raw TCP connection to the server on loopback, for requests sent in pieces, malformed bytes
// and clients that misbehave on purpose (slow headers, endless bodies, half-closes). Shared by the
// in-process server test (src/http) and the integration tests; depends on nothing but POSIX.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace crm::testing {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port (blocking connect); `non_blocking` then makes sends and reads
  // return at once.
  explicit RawConnection(int port, bool non_blocking = false);
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends all of `bytes` (waits while the peer's window is full); false on an error (EPIPE,
  // reset).
  bool Write(const std::string& bytes);
  // One send(2) without waiting (MSG_DONTWAIT): bytes sent, or -1 with errno (EAGAIN when full).
  ssize_t TrySend(const char* data, size_t n);
  // Sends up to `n` filler bytes as fast as the peer takes them, for at most `max_time`; stops at
  // the first error or hang-up. Returns how many went out. `*answer`, if given, collects what
  // the peer sends meanwhile.
  uint64_t Flood(uint64_t n, std::chrono::milliseconds max_time, std::string* answer = nullptr);
  // What arrives within `timeout_ms` (stops early when the peer closes).
  std::string ReadAll(int timeout_ms);
  // One read(2) without waiting: bytes appended to `*out`; 0 when the peer has closed, -1 with
  // errno (EAGAIN when nothing is there).
  ssize_t TryRead(std::string* out);
  void HalfClose();  // shutdown(SHUT_WR): the peer sees EOF, the answer can still be read
  void Close();

 private:
  int fd_ = -1;
};

}  // namespace crm::testing
