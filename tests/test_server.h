// Integration-test support: starts the real `crm-ai serve` on an ephemeral loopback port with a
// fresh temporary DATA_DIR, runs CLI sub-commands against the same data, and speaks HTTP to it.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "raw_connection.h"

namespace crm::testing {

using Env = std::map<std::string, std::string>;

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  nlohmann::json json() const;
  std::string header(const std::string& lower_name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

// One request on a new connection to 127.0.0.1:port.
HttpResult Send(int port, const HttpRequest& req);
// Status, headers and body of a raw HTTP/1.1 response (chunked bodies joined).
HttpResult ParseResponse(const std::string& raw);
// Raw bytes in, raw bytes out (for malformed requests); closes after `read_timeout_ms`.
std::string SendRaw(int port, const std::string& bytes, int read_timeout_ms = 2000);

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};

class TestServer {
 public:
  // extra_env: variables added to the server's environment (and to Run()'s).
  explicit TestServer(std::map<std::string, std::string> extra_env = {});
  ~TestServer();
  TestServer(const TestServer&) = delete;

  bool Start();                 // spawns `crm-ai serve`, waits for its "listening" line
  int Stop(int signal_number);  // sends the signal, returns the exit status
  int port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string log() const;  // the server's stderr so far

  // Runs `crm-ai ARGS...` with the same environment; stdin_text is piped in.
  CommandResult Run(const std::vector<std::string>& args, const std::string& stdin_text = "") const;

  HttpResult Get(const std::string& target,
                 const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  HttpResult Call(const std::string& method, const std::string& target, const nlohmann::json& body,
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) const;

 private:
  std::map<std::string, std::string> env_;
  std::string data_dir_;
  std::string log_path_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// A firm with an owner, an admin and a member (passwords known), plus an admin API key.
struct TestFirm {
  std::string id;
  std::string owner_email, admin_email, member_email;
  std::string password = "motdepasse-solide-1";
  std::string api_key;         // role admin
  std::string member_api_key;  // role member
};
TestFirm CreateFirm(const TestServer& s, const std::string& name);

// A logged-in browser session: cookie + CSRF token.
struct Session {
  std::string cookie;
  std::string csrf;
  std::vector<std::pair<std::string, std::string>> Headers() const {
    return {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  }
};
std::optional<Session> Login(const TestServer& s, const std::string& email,
                             const std::string& password);

std::vector<std::pair<std::string, std::string>> Bearer(const std::string& key);

// The repository (CRM_SOURCE_DIR) and whole-file reads, for test data.
std::string SourceDir();
std::string ReadFile(const std::string& path);

// The OpenAI stand-in server (tests/stand_ins/openai_stand_in.py) on an ephemeral loopback port,
// speaking the real wire protocol; `flags` are its command-line options.
class StandIn {
 public:
  explicit StandIn(const std::vector<std::string>& flags = {});
  ~StandIn();
  StandIn(const StandIn&) = delete;
  const std::string& url() const { return url_; }  // http://127.0.0.1:PORT/v1
  nlohmann::json Requests() const;                 // what it received
  void Control(const nlohmann::json& j) const;     // steer its next answers

 private:
  pid_t pid_ = -1;
  std::string url_;
  int port_ = 0;
};

}  // namespace crm::testing
