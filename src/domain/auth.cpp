#include "domain/auth.h"

#include <sodium.h>

#include <algorithm>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"

namespace crm::domain {
namespace {

constexpr unsigned long long kOpsLimit = 2;
constexpr size_t kMemLimit = 19456ull * 1024;
const char* kBadLogin = "Adresse e-mail ou mot de passe incorrect. / Wrong email or password.";

}  // namespace

Result<std::string> HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kOpsLimit, kMemLimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Internal("password hashing ran out of memory");
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (hash.empty()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Status CheckPasswordPolicy(const std::string& password) {
  if (!IsValidUtf8(password)) return InvalidArgument("Le mot de passe n'est pas du texte valide.", {{"password", "invalid_utf8"}});
  if (password.size() < 10)
    return InvalidArgument("Le mot de passe doit compter au moins 10 caractères. / The password needs at least 10 characters.", {{"password", "too_short"}});
  if (password.size() > 256)
    return InvalidArgument("Le mot de passe est trop long (256 caractères au plus). / The password is too long.", {{"password", "too_long"}});
  return OkStatus();
}

Result<std::string> NormalizeEmail(const std::string& email) {
  std::string e = ToLowerAscii(Trim(email));
  auto at = e.find('@');
  bool ok = at != std::string::npos && at > 0 && at + 1 < e.size() && e.find('@', at + 1) == std::string::npos &&
            e.find('.', at) != std::string::npos && e.size() <= 254 && IsValidUtf8(e);
  for (char c : e) ok = ok && !std::isspace(static_cast<unsigned char>(c)) && c != '<' && c != '>' && c != ',';
  if (!ok) return InvalidArgument("Adresse e-mail invalide. / Invalid email address.", {{"email", "invalid"}});
  return e;
}

std::optional<int> Throttle::Check(const std::string& key) {
  if (!enabled_) return std::nullopt;
  std::lock_guard lock(mu_);
  int64_t now = NowUnix();
  auto& v = events_[key];
  v.erase(std::remove_if(v.begin(), v.end(), [&](int64_t t) { return t <= now - window_; }), v.end());
  if (static_cast<int>(v.size()) >= limit_) return static_cast<int>(std::max<int64_t>(1, v.front() + window_ - now));
  return std::nullopt;
}

std::optional<int> Throttle::Hit(const std::string& key) {
  if (!enabled_) return std::nullopt;
  std::lock_guard lock(mu_);
  int64_t now = NowUnix();
  if (now - last_sweep_ > window_) {
    for (auto it = events_.begin(); it != events_.end();)
      it = (it->second.empty() || it->second.back() <= now - window_) ? events_.erase(it) : std::next(it);
    last_sweep_ = now;
  }
  auto& v = events_[key];
  v.erase(std::remove_if(v.begin(), v.end(), [&](int64_t t) { return t <= now - window_; }), v.end());
  if (static_cast<int>(v.size()) >= limit_) return static_cast<int>(std::max<int64_t>(1, v.front() + window_ - now));
  v.push_back(now);
  return std::nullopt;
}

void Throttle::Reset(const std::string& key) {
  std::lock_guard lock(mu_);
  events_.erase(key);
}

AuthService::AuthService(storage::Store& store, AuthOptions options)
    : store_(store),
      options_(options),
      per_account_(options.login_limit, options.login_window_seconds, options.login_limit_enabled),
      per_ip_(options.login_limit * 5, options.login_window_seconds, options.login_limit_enabled) {
  dummy_hash_ = HashPassword(RandomHex(16)).value();
}

AuthService::~AuthService() {
  {
    std::lock_guard lock(last_used_mu_);
    stopping_ = true;
  }
  last_used_cv_.notify_all();
  if (last_used_flusher_.joinable()) last_used_flusher_.join();
  (void)FlushLastUsed();
}

void AuthService::NoteKeyUsed(const std::string& key_id, int64_t now) {
  std::lock_guard lock(last_used_mu_);
  auto& last = key_last_used_[key_id];
  if (now - last < options_.last_used_every_seconds) return;
  last = now;
  pending_last_used_[key_id] = now;
  StartFlusherLocked();
}

void AuthService::NoteSession(const std::string& id_hash, int64_t seen_at) {
  std::lock_guard lock(last_used_mu_);
  pending_sessions_[id_hash] = seen_at;
  StartFlusherLocked();
}

void AuthService::StartFlusherLocked() {
  if (!last_used_flusher_.joinable() && !stopping_) {
    last_used_flusher_ = std::thread([this] {
      std::unique_lock lock(last_used_mu_);
      while (!stopping_) {
        last_used_cv_.wait_for(lock, std::chrono::milliseconds(options_.last_used_flush_ms));
        if (stopping_) break;
        lock.unlock();
        (void)FlushLastUsed();
        lock.lock();
      }
    });
  }
}

Status AuthService::FlushLastUsed() {
  std::map<std::string, int64_t> pending, sessions;
  {
    std::lock_guard lock(last_used_mu_);
    pending.swap(pending_last_used_);
    sessions.swap(pending_sessions_);
  }
  if (pending.empty() && sessions.empty()) return OkStatus();
  Status st = store_.Transaction([&](storage::Connection& c) -> Status {
    for (auto& [id, at] : pending)
      CRM_TRY(c.Exec("UPDATE api_keys SET last_used_at = ? WHERE id = ?", {FormatIsoUtc(at), id}));
    for (auto& [id_hash, seen_at] : sessions) {
      if (seen_at < 0) CRM_TRY(c.Exec("DELETE FROM sessions WHERE id_hash = ?", {id_hash}));
      else CRM_TRY(c.Exec("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ? AND last_seen_at < ?",
                          {seen_at, id_hash, seen_at}));
    }
    return OkStatus();
  });
  if (!st.ok()) log::Warn("could not record API keys' last use", {{"error", st.error().message}});
  return st;
}

Result<LoginResult> AuthService::Login(const std::string& email, const std::string& password,
                                       const std::string& ip, const std::string& user_agent) {
  std::string folded = FoldForSearch(Trim(email));
  auto limited = per_account_.Check("acct:" + folded);
  if (!limited) limited = per_ip_.Check("ip:" + ip);
  if (limited)
    return Error(ErrorCode::kRateLimited,
                 "Trop de tentatives de connexion. Réessayez dans " + std::to_string(*limited) +
                     " secondes. / Too many login attempts.",
                 {{"retry_after", *limited}});
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(
      "SELECT u.id, u.firm_id, u.email, u.name, u.password_hash, u.role, u.disabled FROM users u "
      "WHERE u.email_folded = ?", {folded}));
  bool ok;
  if (row) {
    ok = VerifyPassword(row->Text("password_hash"), password) && row->Int("disabled") == 0;
  } else {
    VerifyPassword(dummy_hash_, password);  // same cost whether or not the account exists
    ok = false;
  }
  if (!ok) {
    per_account_.Hit("acct:" + folded);
    per_ip_.Hit("ip:" + ip);
    log::Info("login failed", {{"ip", ip}});
    return Error(ErrorCode::kUnauthenticated, kBadLogin, nullptr, "invalid_credentials");
  }
  per_account_.Reset("acct:" + folded);
  LoginResult out;
  out.session_token = RandomToken(16);  // 128 bits
  out.csrf_token = RandomToken(16);
  int64_t now = NowUnix();
  CRM_TRY(store_.Exec(
      "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {Sha256Hex(out.session_token), row->Text("id"), out.csrf_token, now, now,
       now + options_.session_absolute_seconds, ip, user_agent.substr(0, 256)}));
  Principal& p = out.principal;
  p.authenticated = true;
  p.user_id = row->Text("id");
  p.firm_id = row->Text("firm_id");
  p.role = row->Text("role");
  p.email = row->Text("email");
  p.name = row->Text("name");
  p.csrf_token = out.csrf_token;
  p.via_session = true;
  p.session_hash = Sha256Hex(out.session_token);
  p.ip = ip;
  return out;
}

Status AuthService::Logout(const std::string& session_token) {
  CRM_TRY(store_.Exec("DELETE FROM sessions WHERE id_hash = ?", {Sha256Hex(session_token)}));
  return OkStatus();
}

Result<Principal> AuthService::Authenticate(const std::string& session_token,
                                            const std::string& api_key, const std::string& ip) {
  Principal p;
  p.ip = ip;
  int64_t now = NowUnix();
  if (!api_key.empty()) {
    // One indexed read, in place (no row copies): this runs for every API request.
    bool found = false, revoked = false;
    CRM_TRY(store_.ForEachRow(
        "SELECT k.id, k.firm_id, k.role, k.revoked_at IS NOT NULL FROM api_keys k WHERE k.key_hash = ?",
        {Sha256Hex(api_key)}, [&](const storage::RowView& row) -> Status {
          found = true;
          p.api_key_id.assign(row.Text(0));
          p.firm_id.assign(row.Text(1));
          p.role.assign(row.Text(2));
          revoked = row.Int(3) != 0;
          return OkStatus();
        }));
    if (!found || revoked)
      return Error(ErrorCode::kUnauthenticated, "Clé d'API invalide ou révoquée. / Invalid or revoked API key.", nullptr, "invalid_api_key");
    p.authenticated = true;
    NoteKeyUsed(p.api_key_id, now);
    return p;
  }
  if (session_token.empty()) return p;
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(
      "SELECT s.user_id, s.csrf_token, s.last_seen_at, s.expires_at, u.firm_id, u.role, u.email, u.name, u.disabled, "
      "s.acting_firm_id, s.acting_since, f.name AS acting_firm_name "
      "FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN firms f ON f.id = s.acting_firm_id "
      "WHERE s.id_hash = ?",
      {Sha256Hex(session_token)}));
  // The writes below (an ended session's removal, last_seen_at at most once a minute) are left to
  // the background flusher: authentication itself only reads. An ended session is refused now
  // whether or not its row is gone yet.
  if (!row || row->Int("disabled") != 0 || row->Int("expires_at") <= now ||
      row->Int("last_seen_at") + options_.session_idle_seconds <= now) {
    if (row) NoteSession(Sha256Hex(session_token), -1);
    return Error(ErrorCode::kUnauthenticated, "Session expirée : reconnectez-vous. / Session expired, please log in again.", nullptr, "session_expired");
  }
  if (now - row->Int("last_seen_at") >= 60) NoteSession(Sha256Hex(session_token), now);
  p.authenticated = true;
  p.via_session = true;
  p.user_id = row->Text("user_id");
  p.firm_id = row->Text("firm_id");
  p.role = row->Text("role");
  p.email = row->Text("email");
  p.name = row->Text("name");
  p.csrf_token = row->Text("csrf_token");
  p.session_hash = Sha256Hex(session_token);
  // A platform admin acting inside a firm is that firm's admin for every check downstream; a
  // firm removed meanwhile (no name joined) ends the acting.
  if (p.role == "platform_admin" && !row->IsNull("acting_firm_id") && !row->IsNull("acting_firm_name")) {
    p.acting_in_firm = true;
    p.firm_id = row->Text("acting_firm_id");
    p.role = "admin";
    p.acting_firm_name = row->Text("acting_firm_name");
    p.acting_since = row->Text("acting_since");
  }
  return p;
}

Status AuthService::ChangePassword(const Principal& who, const std::string& current, const std::string& next) {
  if (who.user_id.empty()) return Error(ErrorCode::kForbidden, "Seul un utilisateur connecté peut changer son mot de passe.");
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT password_hash FROM users WHERE id = ?", {who.user_id}));
  if (!row || !VerifyPassword(row->Text("password_hash"), current))
    return InvalidArgument("Le mot de passe actuel est incorrect. / The current password is wrong.", {{"current_password", "wrong"}});
  CRM_TRY(CheckPasswordPolicy(next));
  CRM_ASSIGN_OR_RETURN(std::string hash, HashPassword(next));
  return store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(c.Exec("UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                   {hash, NowIsoUtc(), who.user_id}));
    // Other sessions of this user end; the current one stays.
    CRM_TRY(c.Exec("DELETE FROM sessions WHERE user_id = ? AND csrf_token <> ?", {who.user_id, who.csrf_token}));
    return OkStatus();
  });
}

Result<NewApiKey> AuthService::CreateApiKey(const std::string& firm_id, const std::string& name,
                                            const std::string& role, const std::string& created_by) {
  if (role != "admin" && role != "member")
    return InvalidArgument("Rôle invalide pour une clé d'API (admin ou member).", {{"role", "invalid"}});
  std::string n = Trim(name);
  if (n.empty() || n.size() > 100) return InvalidArgument("Le nom de la clé est requis (100 caractères au plus).", {{"name", "invalid"}});
  NewApiKey out;
  out.id = NewId();
  out.key = "crm_" + RandomToken(32);
  std::string now = NowIsoUtc();
  CRM_TRY(store_.Exec(
      "INSERT INTO api_keys (id, firm_id, name, key_hash, prefix, role, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {out.id, firm_id, n, Sha256Hex(out.key), out.key.substr(0, 10), role, created_by, now}));
  out.info = {{"id", out.id}, {"name", n}, {"prefix", out.key.substr(0, 10)}, {"role", role},
              {"created_at", now}, {"last_used_at", nullptr}, {"revoked_at", nullptr}};
  return out;
}

Result<std::vector<nlohmann::json>> AuthService::ListApiKeys(const std::string& firm_id) {
  CRM_ASSIGN_OR_RETURN(auto rows, store_.Query(
      "SELECT id, name, prefix, role, created_by, created_at, last_used_at, revoked_at FROM api_keys "
      "WHERE firm_id = ? ORDER BY id", {firm_id}));
  std::vector<nlohmann::json> out;
  for (auto& r : rows) out.push_back(r.ToJson());
  return out;
}

Status AuthService::RevokeApiKey(const std::string& firm_id, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(int64_t n, store_.Exec(
      "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND firm_id = ? AND revoked_at IS NULL",
      {NowIsoUtc(), id, firm_id}));
  if (n == 0) {
    CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT id FROM api_keys WHERE id = ? AND firm_id = ?", {id, firm_id}));
    if (!row) return NotFound("Clé d'API introuvable. / API key not found.");
  }
  return OkStatus();
}

Result<std::string> AuthService::CreateUser(const std::string& firm_id, const std::string& email,
                                            const std::string& name, const std::string& role,
                                            const std::string& password) {
  CRM_ASSIGN_OR_RETURN(std::string e, NormalizeEmail(email));
  if (role != "owner" && role != "admin" && role != "member" && role != "platform_admin")
    return InvalidArgument("Rôle invalide (owner, admin ou member).", {{"role", "invalid"}});
  if ((role == "platform_admin") != firm_id.empty())
    return InvalidArgument("Un administrateur de plateforme n'appartient à aucun cabinet ; tout autre utilisateur appartient à un cabinet.");
  std::optional<std::string> hash;
  if (!password.empty()) {
    CRM_TRY(CheckPasswordPolicy(password));
    CRM_ASSIGN_OR_RETURN(std::string h, HashPassword(password));
    hash = h;
  }
  std::string id = NewId(), now = NowIsoUtc();
  auto r = store_.Exec(
      "INSERT INTO users (id, firm_id, email, email_folded, name, password_hash, role, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, firm_id.empty() ? storage::Value(storage::Null{}) : storage::Value(firm_id), e, FoldForSearch(e),
       Trim(name), storage::Opt(hash), role, now, now});
  if (!r.ok()) {
    if (r.error().code == ErrorCode::kConflict)
      return Error(ErrorCode::kConflict, "Un compte existe déjà avec cette adresse e-mail. / An account with this email already exists.", {{"email", "taken"}});
    return r.take_error();
  }
  return id;
}

Result<std::string> AuthService::CreateInvitation(const std::string& firm_id,
                                                  const std::string& email, const std::string& name,
                                                  const std::string& role,
                                                  const std::string& created_by,
                                                  const InTokenTransaction& also) {
  CRM_ASSIGN_OR_RETURN(std::string e, NormalizeEmail(email));
  if (role != "owner" && role != "admin" && role != "member")
    return InvalidArgument("Rôle invalide (owner, admin ou member).", {{"role", "invalid"}});
  CRM_ASSIGN_OR_RETURN(auto existing, store_.QueryOne("SELECT id FROM users WHERE email_folded = ?", {FoldForSearch(e)}));
  if (existing) return Error(ErrorCode::kConflict, "Un compte existe déjà avec cette adresse e-mail.", {{"email", "taken"}});
  std::string token = RandomToken(24);
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(
        c.Exec("INSERT INTO invitations (id, firm_id, email, name, role, token_hash, created_by, "
               "created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               {NewId(), firm_id, e, Trim(name), role, Sha256Hex(token), created_by, NowIsoUtc(),
                NowUnix() + options_.invitation_seconds}));
    return also ? also(c, {token, e, Trim(name), firm_id, "", role}) : OkStatus();
  }));
  return token;
}

Result<Principal> AuthService::AcceptInvitation(const std::string& token, const std::string& name,
                                                const std::string& password) {
  CRM_TRY(CheckPasswordPolicy(password));
  CRM_ASSIGN_OR_RETURN(auto inv, store_.QueryOne(
      "SELECT id, firm_id, email, name, role, expires_at, accepted_at FROM invitations WHERE token_hash = ?",
      {Sha256Hex(token)}));
  if (!inv || !inv->IsNull("accepted_at") || inv->Int("expires_at") <= NowUnix())
    return NotFound("Invitation invalide ou expirée. / Invalid or expired invitation.");
  CRM_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  std::string user_id = NewId(), now = NowIsoUtc();
  std::string display = Trim(name).empty() ? inv->Text("name") : Trim(name);
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(int64_t n, c.Exec("UPDATE invitations SET accepted_at = ? WHERE id = ? AND accepted_at IS NULL",
                                           {now, inv->Text("id")}));
    if (n != 1) return NotFound("Invitation déjà utilisée. / Invitation already used.");
    auto ins = c.Exec(
        "INSERT INTO users (id, firm_id, email, email_folded, name, password_hash, role, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        {user_id, inv->Text("firm_id"), inv->Text("email"), FoldForSearch(inv->Text("email")), display, hash,
         inv->Text("role"), now, now});
    if (!ins.ok()) return Error(ErrorCode::kConflict, "Un compte existe déjà avec cette adresse e-mail.");
    return OkStatus();
  }));
  Principal p;
  p.authenticated = true;
  p.user_id = user_id;
  p.firm_id = inv->Text("firm_id");
  p.role = inv->Text("role");
  p.email = inv->Text("email");
  return p;
}

Result<std::string> AuthService::CreatePasswordReset(const std::string& email,
                                                     const InTokenTransaction& also) {
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT id, email, name, firm_id, role FROM users "
                                                 "WHERE email_folded = ? AND disabled = 0",
                                                 {FoldForSearch(Trim(email))}));
  if (!row) return std::string();
  std::string token = RandomToken(24);
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(c.Exec(
        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, "
        "?, ?)",
        {Sha256Hex(token), row->Text("id"), NowIsoUtc(), NowUnix() + options_.reset_seconds}));
    return also ? also(c, {token, row->Text("email"), row->Text("name"), row->Text("firm_id"),
                           row->Text("id"), row->Text("role")})
                : OkStatus();
  }));
  return token;
}

Status AuthService::ResetPassword(const std::string& token, const std::string& password) {
  CRM_TRY(CheckPasswordPolicy(password));
  CRM_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  return store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(auto row, c.QueryOne(
        "SELECT user_id, expires_at, used_at FROM password_resets WHERE token_hash = ?", {Sha256Hex(token)}));
    if (!row || !row->IsNull("used_at") || row->Int("expires_at") <= NowUnix())
      return NotFound("Lien de réinitialisation invalide ou expiré. / Invalid or expired reset link.");
    CRM_TRY(c.Exec("UPDATE password_resets SET used_at = ? WHERE token_hash = ?", {NowIsoUtc(), Sha256Hex(token)}));
    CRM_TRY(c.Exec("UPDATE users SET password_hash = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                   {hash, NowIsoUtc(), row->Text("user_id")}));
    CRM_TRY(c.Exec("DELETE FROM sessions WHERE user_id = ?", {row->Text("user_id")}));
    return OkStatus();
  });
}

}  // namespace crm::domain
