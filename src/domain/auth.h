// Accounts and access: password hashing (Argon2id), login sessions, API keys, invitations,
// password resets and login throttling. The HTTP layer calls Authenticate() for every request;
// the result (a Principal) is the only source of the caller's firm and role.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/principal.h"
#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

// Argon2id, m = 19456 KiB, t = 2, p = 1 (libsodium's crypto_pwhash_str_alg).
Result<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);
// Length 10..256 bytes, valid UTF-8; the message says what is wrong.
Status CheckPasswordPolicy(const std::string& password);
// Lower-cased, trimmed; fails when it does not look like an address.
Result<std::string> NormalizeEmail(const std::string& email);

// Counts events per key in a sliding window; Hit() returns seconds to wait when over the limit.
class Throttle {
 public:
  Throttle(int limit, int window_seconds, bool enabled = true)
      : limit_(limit), window_(window_seconds), enabled_(enabled) {}
  std::optional<int> Check(const std::string& key);  // does not count
  std::optional<int> Hit(const std::string& key);    // counts, then checks
  void Reset(const std::string& key);

 private:
  int limit_, window_;
  bool enabled_;
  std::mutex mu_;
  std::map<std::string, std::vector<int64_t>> events_;
  int64_t last_sweep_ = 0;
};

struct AuthOptions {
  int session_idle_seconds = 2 * 3600;      // inactivity before a session ends
  int session_absolute_seconds = 12 * 3600; // a session never lives longer
  int invitation_seconds = 7 * 24 * 3600;
  int reset_seconds = 3600;
  int login_limit = 10;                     // RATE_LIMIT_LOGIN
  int login_window_seconds = 60;
  bool login_limit_enabled = true;
  // API keys' last_used_at: written at most once per key per this many seconds. It, sessions'
  // last_seen_at (at most once a minute) and the removal of ended sessions are written by a
  // background thread every last_used_flush_ms, never on the request path.
  int last_used_every_seconds = 60;
  int last_used_flush_ms = 1000;
};

struct LoginResult {
  std::string session_token;  // goes into the cookie, never stored
  std::string csrf_token;
  Principal principal;
};

struct NewApiKey {
  std::string id;
  std::string key;  // shown once
  nlohmann::json info;
};

class AuthService {
 public:
  AuthService(storage::Store& store, AuthOptions options);
  ~AuthService();  // writes the last-used times still pending

  // Fails with one generic message whether the account exists or not; throttled per account and
  // per IP (kRateLimited with details.retry_after).
  Result<LoginResult> Login(const std::string& email, const std::string& password,
                            const std::string& ip, const std::string& user_agent);
  Status Logout(const std::string& session_token);
  // From the session cookie, or an API key (Authorization: Bearer / X-API-Key). No credentials
  // → unauthenticated principal; bad credentials → kUnauthenticated.
  Result<Principal> Authenticate(const std::string& session_token, const std::string& api_key,
                                 const std::string& ip);

  Status ChangePassword(const Principal& who, const std::string& current, const std::string& next);

  Result<NewApiKey> CreateApiKey(const std::string& firm_id, const std::string& name,
                                 const std::string& role, const std::string& created_by);
  Result<std::vector<nlohmann::json>> ListApiKeys(const std::string& firm_id);
  Status RevokeApiKey(const std::string& firm_id, const std::string& id);

  // Runs inside the transaction that stores an invitation or a reset (the mail carrying its
  // link is written there): the token and the account's facts (email, name, firm id, user id).
  struct TokenFacts {
    std::string token, email, name, firm_id, user_id, role;
  };
  using InTokenTransaction = std::function<Status(storage::Connection&, const TokenFacts&)>;

  // Returns the token to put in the link (stored hashed).
  Result<std::string> CreateInvitation(const std::string& firm_id, const std::string& email,
                                       const std::string& name, const std::string& role,
                                       const std::string& created_by,
                                       const InTokenTransaction& also = {});
  Result<Principal> AcceptInvitation(const std::string& token, const std::string& name,
                                     const std::string& password);
  // Empty token (and success) when no such account: callers must not reveal the difference.
  Result<std::string> CreatePasswordReset(const std::string& email,
                                          const InTokenTransaction& also = {});
  Status ResetPassword(const std::string& token, const std::string& password);

  // Writes the API keys' last-used times and sessions' last-seen times (and removals) noted since
  // the previous flush (the background thread calls it; shutdown and tests may too).
  Status FlushLastUsed();

  // Creates a user; firm_id empty with role platform_admin for the platform admin.
  Result<std::string> CreateUser(const std::string& firm_id, const std::string& email,
                                 const std::string& name, const std::string& role,
                                 const std::string& password);

 private:
  storage::Store& store_;
  AuthOptions options_;
  Throttle per_account_;
  Throttle per_ip_;
  std::string dummy_hash_;
  void NoteKeyUsed(const std::string& key_id, int64_t now);
  void NoteSession(const std::string& id_hash, int64_t seen_at);  // seen_at < 0: delete it
  void StartFlusherLocked();

  std::mutex last_used_mu_;
  std::condition_variable last_used_cv_;
  std::map<std::string, int64_t> key_last_used_;  // throttles last_used_at writes
  std::map<std::string, int64_t> pending_last_used_;  // key id → time, waiting for the flusher
  std::map<std::string, int64_t> pending_sessions_;   // session hash → last seen (-1: ended)
  std::thread last_used_flusher_;  // started on the first pending write
  bool stopping_ = false;
};

}  // namespace crm::domain
