#include "raw_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace crm::testing {

using Clock = std::chrono::steady_clock;

RawConnection::RawConnection(int port, bool non_blocking) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return;
  }
  if (non_blocking) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  fd_ = fd;
}

RawConnection::~RawConnection() { Close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

bool RawConnection::Write(const std::string& bytes) {
  size_t off = 0;
  while (fd_ >= 0 && off < bytes.size()) {
    ssize_t n = send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd_, POLLOUT, 0};
      poll(&p, 1, 50);
      continue;
    }
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

ssize_t RawConnection::TrySend(const char* data, size_t n) {
  if (fd_ < 0) {
    errno = EBADF;
    return -1;
  }
  return send(fd_, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

uint64_t RawConnection::Flood(uint64_t n, std::chrono::milliseconds max_time, std::string* answer) {
  std::string chunk(1 << 16, 'x');
  uint64_t sent = 0;
  auto until = Clock::now() + max_time;
  bool reading = answer != nullptr;
  while (fd_ >= 0 && sent < n && Clock::now() < until) {
    pollfd p{fd_, static_cast<short>(POLLOUT | (reading ? POLLIN : 0)), 0};
    if (poll(&p, 1, 10) <= 0) continue;
    if (reading && (p.revents & POLLIN)) {
      char buf[4096];
      ssize_t k = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (k > 0) answer->append(buf, static_cast<size_t>(k));
      if (k == 0) reading = false;  // the peer's half-close: only writing is left
    }
    if (p.revents & (POLLERR | POLLHUP)) break;
    if (!(p.revents & POLLOUT)) continue;
    ssize_t k =
        TrySend(chunk.data(), static_cast<size_t>(std::min<uint64_t>(chunk.size(), n - sent)));
    if (k < 0 && errno != EAGAIN) break;
    if (k > 0) sent += static_cast<uint64_t>(k);
  }
  return sent;
}

std::string RawConnection::ReadAll(int timeout_ms) {
  std::string out;
  char buf[65536];
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (fd_ >= 0) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<long long>(left, 50))) <= 0) continue;
    ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

ssize_t RawConnection::TryRead(std::string* out) {
  if (fd_ < 0) {
    errno = EBADF;
    return -1;
  }
  char buf[4096];
  ssize_t n = recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
  if (n > 0) out->append(buf, static_cast<size_t>(n));
  return n;
}

void RawConnection::HalfClose() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

void RawConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace crm::testing
