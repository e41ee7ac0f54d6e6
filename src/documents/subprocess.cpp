#include "documents/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

extern char** environ;

namespace crm::documents {

namespace {

void KillGroup(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

Result<ProcessOutcome> RunProcess(const std::vector<std::string>& argv,
                                  const ProcessOptions& options) {
  if (argv.empty()) return Internal("RunProcess: empty argv");
  // Everything the child needs is prepared before fork(): between fork and exec only
  // async-signal-safe calls are allowed in a multi-threaded process.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : options.extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  std::string path_var;
  if (const char* p = ::getenv("PATH")) path_var = p;
  std::vector<std::string> candidates;
  if (argv[0].find('/') != std::string::npos) {
    candidates.push_back(argv[0]);
  } else {
    size_t start = 0;
    std::string path = path_var.empty() ? "/usr/local/bin:/usr/bin:/bin" : path_var;
    while (start <= path.size()) {
      size_t end = path.find(':', start);
      if (end == std::string::npos) end = path.size();
      candidates.push_back(path.substr(start, end - start) + "/" + argv[0]);
      start = end + 1;
    }
  }
  std::string program;
  for (const auto& c : candidates)
    if (::access(c.c_str(), X_OK) == 0) {
      program = c;
      break;
    }
  if (program.empty())
    return Error(ErrorCode::kUnavailable, "program not found: " + argv[0]);

  int out_fd = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = ::open(options.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || in_fd < 0) {
    for (int fd : {out_fd, err_fd, in_fd})
      if (fd >= 0) ::close(fd);
    return IoError("cannot open the converter's output files");
  }
  rlimit as{static_cast<rlim_t>(options.max_address_space_bytes),
            static_cast<rlim_t>(options.max_address_space_bytes)};
  const char* cwd = options.working_dir.empty() ? nullptr : options.working_dir.c_str();

  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out_fd);
    ::close(err_fd);
    ::close(in_fd);
    return Error(ErrorCode::kUnavailable, "cannot start " + argv[0]);
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (options.max_address_space_bytes > 0) ::setrlimit(RLIMIT_AS, &as);
    if (cwd && ::chdir(cwd) != 0) ::_exit(126);
    ::execve(program.c_str(), args.data(), env.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so a kill right away reaches the group
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);

  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  auto wait = std::chrono::milliseconds(2);
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      ::kill(-pid, SIGKILL);  // helpers the program left behind in its group
      ProcessOutcome out;
      if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
      return out;
    }
    if (r < 0 && errno != EINTR) return IoError("waitpid failed for " + argv[0]);
    if (std::chrono::steady_clock::now() >= deadline) {
      KillGroup(pid);
      return Error(ErrorCode::kTimeout,
                   argv[0] + " did not finish within " +
                       std::to_string(options.timeout.count() / 1000) + " s (killed)");
    }
    if (options.cancelled && options.cancelled()) {
      KillGroup(pid);
      return Error(ErrorCode::kCancelled, argv[0] + " cancelled");
    }
    std::this_thread::sleep_for(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(50));
  }
}

}  // namespace crm::documents
