// The server in-process on a loopback port, with small lingering bounds so that each limit is
// reached in a fraction of a second (and the whole session code runs under the sanitizers).
#include "http/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "raw_connection.h"

namespace crm::http {
namespace {

using Clock = std::chrono::steady_clock;
using crm::testing::RawConnection;

// Counts what a sink received, to prove a refused body reaches nothing.
struct Counters {
  std::atomic<uint64_t> sink_bytes{0};
  std::atomic<int> sinks{0};
};

class CountingSink final : public BodySink {
 public:
  explicit CountingSink(Counters* c) : c_(c) { c_->sinks++; }
  Status Write(const char*, size_t n) override {
    c_->sink_bytes += n;
    return OkStatus();
  }
  Status Finish(Request&) override { return OkStatus(); }
  void Abort() override {}

 private:
  Counters* c_;
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Router r;
    r.Add("POST", "/upload",
          [](Request&) {
            return Response::Json(201, {{"ok", true}});
          },
          {.csrf = false,
           .body_sink = [this](const Request&,
                               std::optional<uint64_t>) -> Result<std::unique_ptr<BodySink>> {
             return std::unique_ptr<BodySink>(new CountingSink(&counters_));
           },
           .rate_limited = false,
           .summary = "upload"});
    r.Add("POST", "/json",
          [](Request& req) {
            return Response::Json(200, {{"size", req.body.size()}});
          },
          {.csrf = false, .max_body = 1024, .rate_limited = false, .summary = "json"});
    r.Add("GET", "/list",
          [](Request& req) {
            return Response::Json(200, {{"q", req.Query("q").value_or("")}});
          },
          {.auth = AuthMode::kNone, .rate_limited = false, .summary = "list"});
    Middleware mw;
    mw.authenticate = [](const Request& req) -> Result<Principal> {
      if (req.Header("Authorization") != "Bearer good")
        return Error(ErrorCode::kUnauthenticated, "bad key");
      Principal p;
      p.authenticated = true;
      p.role = "admin";
      p.firm_id = "f";
      return p;
    };
    ServerOptions o;
    o.port = 0;
    o.linger_time = std::chrono::seconds(1);
    o.linger_idle = std::chrono::milliseconds(600);
    o.linger_max_bytes = 8 << 20;
    o.linger_max_connections = 4;
    server_ = std::make_unique<Server>(o, std::move(r), std::move(mw));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    server_->Stop();
    server_->Wait();
  }
  std::string Post(const std::string& path, const std::string& key, uint64_t length,
                   const std::string& extra = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key +
           "\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra + "\r\n";
  }
  Counters counters_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, ARefusedUploadIsReadAndDiscardedSoTheClientGetsTheAnswer) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/upload", "wrong", 5'000'000)));
  // The whole 5 MB body goes out without a reset, then the answer is there to read.
  EXPECT_EQ(c.Flood(5'000'000, std::chrono::seconds(5)), 5'000'000u);
  std::string got = c.ReadAll(2000);
  EXPECT_EQ(got.rfind("HTTP/1.1 401", 0), 0u) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos);
  EXPECT_EQ(counters_.sinks, 0);
  EXPECT_EQ(counters_.sink_bytes, 0u);
}

TEST_F(ServerTest, ExpectContinueOnARefusedRequestGetsTheFinalStatus) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/upload", "wrong", 5'000'000, "Expect: 100-continue\r\n")));
  std::string got = c.ReadAll(1500);
  EXPECT_EQ(got.rfind("HTTP/1.1 401", 0), 0u) << got;
  EXPECT_EQ(got.find("100 Continue"), std::string::npos) << got;
}

TEST_F(ServerTest, ExpectContinueOnAnAcceptedRequestGets100ThenTheAnswer) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/upload", "good", 10, "Expect: 100-continue\r\n")));
  std::string first = c.ReadAll(300);
  EXPECT_EQ(first, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.Write("0123456789"));
  std::string got = c.ReadAll(300);
  EXPECT_EQ(got.rfind("HTTP/1.1 201", 0), 0u) << got;
  EXPECT_EQ(counters_.sink_bytes, 10u);
}

TEST_F(ServerTest, AnOversizedJsonBodyIsRefusedAndTheClientStillReads413) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/json", "good", 3'000'000)));
  EXPECT_EQ(c.Flood(3'000'000, std::chrono::seconds(5)), 3'000'000u);
  std::string got = c.ReadAll(1000);
  EXPECT_EQ(got.rfind("HTTP/1.1 413", 0), 0u) << got;
}

TEST_F(ServerTest, AnEndlessSenderIsCutOffAtTheByteBound) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/upload", "wrong", 100'000'000'000ull)));
  auto start = Clock::now();
  uint64_t sent = c.Flood(100'000'000'000ull, std::chrono::seconds(10));
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_LT(sent, 64u << 20) << secs << " s";  // 8 MiB bound plus the kernel's buffers
  EXPECT_LT(secs, 3.0);
}

TEST_F(ServerTest, ATricklingSenderIsCutOffAtTheTimeBound) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/upload", "wrong", 1'000'000)));
  auto start = Clock::now();
  std::string got;
  while (Clock::now() - start < std::chrono::seconds(5)) {
    got += c.ReadAll(100);
    if (!c.Write("x")) break;
  }
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(got.rfind("HTTP/1.1 401", 0), 0u) << got;
  EXPECT_GE(secs, 0.9);
  EXPECT_LT(secs, 2.5);
}

TEST_F(ServerTest, ASilentClientIsClosedAfterTheIdleBound) {
  RawConnection c(server_->port());
  ASSERT_TRUE(c.Write(Post("/upload", "wrong", 1'000'000)));
  auto start = Clock::now();
  std::string got = c.ReadAll(3000);  // the answer, then EOF from the half-close
  EXPECT_EQ(got.rfind("HTTP/1.1 401", 0), 0u) << got;
  // After the idle bound the server has closed: a write is reset.
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  c.Write("x");
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(c.Write("x"));
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - start).count(), 2.5);
}

TEST_F(ServerTest, LingeringConnectionsAreBoundedAndTheServerKeepsServing) {
  // Eight refused uploads that keep trickling: four may linger, the others are closed at once.
  std::vector<RawConnection> conns;
  for (int i = 0; i < 8; ++i) {
    conns.emplace_back(server_->port());
    conns.back().Write(Post("/upload", "wrong", 1'000'000));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int reset = 0;
  for (auto& c : conns) {
    EXPECT_EQ(c.ReadAll(200).rfind("HTTP/1.1 401", 0), 0u);
    c.Write("x");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  for (auto& c : conns)
    if (!c.Write("x")) ++reset;
  EXPECT_EQ(reset, 4);
  RawConnection c(server_->port());
  c.Write("GET /list?q=ok HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(c.ReadAll(300).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ServerTest, InvalidUtf8OrNulInTheQueryIsA422NamingTheParameter) {
  for (const char* q : {"q=%C3%28", "q=%FF", "q=a%00b", "q=%ED%A0%80"}) {
    RawConnection c(server_->port());
    c.Write(std::string("GET /list?") + q + " HTTP/1.1\r\nHost: t\r\n\r\n");
    std::string got = c.ReadAll(300);
    EXPECT_EQ(got.rfind("HTTP/1.1 422", 0), 0u) << q << "\n" << got;
    EXPECT_NE(got.find("\"q\""), std::string::npos) << got;
  }
  RawConnection c(server_->port());
  c.Write("GET /list?q=%C3%A9t%C3%A9 HTTP/1.1\r\nHost: t\r\n\r\n");
  std::string got = c.ReadAll(300);
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_NE(got.find("\"q\":\"été\""), std::string::npos) << got;
}

TEST_F(ServerTest, SmugglingAndOversizedHeadersAreRefused) {
  struct Case {
    std::string bytes;
    const char* status;
  } cases[] = {
      {"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       "400"},
      {"POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcd",
       "400"},
      {"GET /list HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n", "431"},
      {"GET /list HTTP/1.1\r\nHo st: t\r\n\r\n", "400"},
      {"GET /list HTTP/9.9\r\nHost: t\r\n\r\n", "400"},
  };
  for (auto& c : cases) {
    RawConnection conn(server_->port());
    conn.Write(c.bytes);
    std::string got = conn.ReadAll(1500);
    EXPECT_EQ(got.substr(0, 12), std::string("HTTP/1.1 ") + c.status)
        << c.bytes.substr(0, 80) << "\n"
        << got;
  }
}

}  // namespace
}  // namespace crm::http
