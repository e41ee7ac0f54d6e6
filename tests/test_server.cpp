#include "test_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

namespace crm::testing {

namespace fs = std::filesystem;
using nlohmann::json;

json HttpResult::json() const { return nlohmann::json::parse(body, nullptr, false); }

std::string HttpResult::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

std::string SendRaw(int port, const std::string& bytes, int read_timeout_ms) {
  RawConnection c(port);
  if (!c.ok()) return {};
  c.Write(bytes);
  return c.ReadAll(read_timeout_ms);
}

HttpResult ParseResponse(const std::string& raw) {
  HttpResult r;
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::istringstream head(raw.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.size() > 12) r.status = std::atoi(line.c_str() + 9);
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    if (r.headers.count(name))
      r.headers[name] += ", " + value;
    else
      r.headers[name] = value;
  }
  std::string rest = raw.substr(end + 4);
  if (r.header("transfer-encoding").find("chunked") != std::string::npos) {
    size_t pos = 0;
    while (pos < rest.size()) {
      auto nl = rest.find("\r\n", pos);
      if (nl == std::string::npos) break;
      size_t len = std::stoul(rest.substr(pos, nl - pos), nullptr, 16);
      if (len == 0) break;
      r.body += rest.substr(nl + 2, len);
      pos = nl + 2 + len + 2;
    }
  } else {
    r.body = rest;
  }
  return r;
}

HttpResult Send(int port, const HttpRequest& req) {
  std::string raw =
      req.method + " " + req.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  bool has_type = false;
  for (auto& [k, v] : req.headers) {
    raw += k + ": " + v + "\r\n";
    has_type |= strcasecmp(k.c_str(), "Content-Type") == 0;
  }
  if (!req.body.empty() || req.method == "POST" || req.method == "PATCH" || req.method == "PUT") {
    if (!has_type) raw += "Content-Type: application/json\r\n";
    raw += "Content-Length: " + std::to_string(req.body.size()) + "\r\n";
  }
  raw += "\r\n" + req.body;
  return ParseResponse(SendRaw(port, raw, 30000));
}

TestServer::TestServer(std::map<std::string, std::string> extra_env) : env_(std::move(extra_env)) {
  std::random_device rd;
  data_dir_ = (fs::temp_directory_path() / ("crm-it-" + std::to_string(rd()))).string();
  fs::create_directories(data_dir_);
  log_path_ = data_dir_ + "/../" + fs::path(data_dir_).filename().string() + ".log";
  env_.emplace("DATA_DIR", data_dir_);
  env_.emplace("APP_HOST", "127.0.0.1");
  env_.emplace("APP_PORT", "0");
  env_.emplace("LOG_FORMAT", "json");
  env_.emplace("APP_ENV", "local");
  env_.emplace("TRANSCRIPTION_LANGUAGE", "fr");
}

TestServer::~TestServer() {
  if (pid_ > 0) Stop(SIGKILL);
  std::error_code ec;
  fs::remove_all(data_dir_, ec);
  fs::remove(log_path_, ec);
}

static std::string Binary() {
  const char* b = std::getenv("CRM_BINARY");
  return b ? b : "crm-ai";
}

static std::vector<std::string> BuildEnv(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string k = kv.substr(0, eq);
    // The tests decide the configuration: nothing of the caller's leaks in.
    if (k.rfind("APP_", 0) == 0 || k.rfind("DB_", 0) == 0 || k.rfind("QUEUE_", 0) == 0 ||
        k.rfind("OPENAI_", 0) == 0 || k == "DATA_DIR" || k == "TRANSCRIPTION_MODE" ||
        k == "WHISPER_MODEL" || k.rfind("RATE_LIMIT", 0) == 0)
      continue;
    env[k] = kv.substr(eq + 1);
  }
  for (auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  for (auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

static pid_t Spawn(const std::vector<std::string>& args,
                   const std::map<std::string, std::string>& env, int in_fd, int out_fd, int err_fd,
                   const std::string& cwd) {
  auto envs = BuildEnv(env);
  pid_t pid = fork();
  if (pid == 0) {
    if (in_fd >= 0) dup2(in_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    std::vector<char*> argv, envp;
    std::string bin = Binary();
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    execve(bin.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

bool TestServer::Start() {
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int devnull = open("/dev/null", O_RDWR);
  pid_ = Spawn({"serve"}, env_, devnull, devnull, log_fd, data_dir_);
  close(log_fd);
  close(devnull);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(log_path_);
    std::string line;
    while (std::getline(in, line)) {
      if (line.find("\"msg\":\"listening\"") == std::string::npos) continue;
      auto j = json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("port")) {
        port_ = j["port"].get<int>();
        return true;
      }
    }
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int TestServer::Stop(int signal_number) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal_number);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

std::string TestServer::log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

CommandResult TestServer::Run(const std::vector<std::string>& args,
                              const std::string& stdin_text) const {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) || pipe(out_pipe) || pipe(err_pipe)) return {};
  pid_t pid = Spawn(args, env_, in_pipe[0], out_pipe[1], err_pipe[1], data_dir_);
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (!stdin_text.empty()) (void)!write(in_pipe[1], stdin_text.data(), stdin_text.size());
  close(in_pipe[1]);
  CommandResult r;
  std::thread err_reader([&] { r.err = ReadAll(err_pipe[0]); });
  r.out = ReadAll(out_pipe[0]);
  err_reader.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

HttpResult TestServer::Get(const std::string& target,
                           const std::vector<std::pair<std::string, std::string>>& headers) const {
  return Send(port_, {"GET", target, "", headers});
}

HttpResult TestServer::Call(const std::string& method, const std::string& target, const json& body,
                            const std::vector<std::pair<std::string, std::string>>& headers) const {
  return Send(port_, {method, target, body.is_null() ? "" : body.dump(), headers});
}

static std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

TestFirm CreateFirm(const TestServer& s, const std::string& name) {
  TestFirm f;
  f.id = Trimmed(s.Run({"firm", "create", "--name", name}).out);
  std::string slug;
  for (char c : name)
    slug.push_back(std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c))
                                                               : '-');
  f.owner_email = "owner@" + slug + ".test";
  f.admin_email = "admin@" + slug + ".test";
  f.member_email = "member@" + slug + ".test";
  s.Run({"user", "create", "--firm", f.id, "--email", f.owner_email, "--role", "owner",
         "--password-stdin"},
        f.password + "\n");
  s.Run({"user", "create", "--firm", f.id, "--email", f.admin_email, "--role", "admin",
         "--password-stdin"},
        f.password + "\n");
  s.Run({"user", "create", "--firm", f.id, "--email", f.member_email, "--role", "member",
         "--password-stdin"},
        f.password + "\n");
  f.api_key = Trimmed(s.Run({"apikey", "create", "--firm", f.id, "--name", "tests"}).out);
  f.member_api_key = Trimmed(
      s.Run({"apikey", "create", "--firm", f.id, "--name", "tests-member", "--role", "member"})
          .out);
  return f;
}

std::optional<Session> Login(const TestServer& s, const std::string& email,
                             const std::string& password) {
  auto r = s.Call("POST", "/api/auth/login", {{"email", email}, {"password", password}});
  if (r.status != 200) return std::nullopt;
  Session session;
  std::string cookie = r.header("set-cookie");
  session.cookie = cookie.substr(0, cookie.find(';'));
  session.csrf = r.json()["csrf_token"].get<std::string>();
  return session;
}

std::vector<std::pair<std::string, std::string>> Bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

std::string SourceDir() {
  const char* s = std::getenv("CRM_SOURCE_DIR");
  return s ? s : ".";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StandIn::StandIn(const std::vector<std::string>& flags) {
  std::string cmd = "/usr/bin/python3 " + SourceDir() + "/tests/stand_ins/openai_stand_in.py";
  for (auto& f : flags) cmd += " " + f;
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl("/bin/sh", "sh", "-c", ("exec " + cmd).c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  auto p = line.find("http://");
  if (p != std::string::npos) url_ = line.substr(p);
  auto colon = url_.rfind(':');
  if (colon != std::string::npos) port_ = std::atoi(url_.substr(colon + 1).c_str());
}

StandIn::~StandIn() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
}

nlohmann::json StandIn::Requests() const {
  return Send(port_, {"GET", "/requests", "", {}}).json();
}
void StandIn::Control(const nlohmann::json& j) const {
  Send(port_, {"POST", "/control", j.dump(), {}});
}

}  // namespace crm::testing
