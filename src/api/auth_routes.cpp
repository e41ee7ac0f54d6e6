// Login, logout, the current user, passwords, invitations, users of the firm, API keys, audit.
#include "api/app.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/acting.h"
#include "domain/audit.h"
#include "domain/users.h"
#include "mail/outbox.h"

namespace crm::api {

using http::AuthMode;
using http::Request;
using http::Response;
using nlohmann::json;

namespace {

// Reads string fields of a JSON body: unknown fields and wrong types are 422.
Result<std::map<std::string, std::string>> StringFields(const Request& req, std::vector<std::string> required,
                                                        std::vector<std::string> optional = {}) {
  CRM_ASSIGN_OR_RETURN(json body, req.JsonBody());
  std::map<std::string, std::string> out;
  json problems = json::object();
  for (auto& [k, v] : body.items()) {
    bool known = std::find(required.begin(), required.end(), k) != required.end() ||
                 std::find(optional.begin(), optional.end(), k) != optional.end();
    if (!known) problems[k] = "unknown_field";
    else if (!v.is_string()) problems[k] = "must_be_string";
    else if (v.get<std::string>().size() > 4096) problems[k] = "too_long";
    else out[k] = v.get<std::string>();
  }
  for (auto& r : required)
    if (!out.count(r) && !problems.contains(r)) problems[r] = "required";
  if (!problems.empty()) {
    std::string names;
    for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
    return InvalidArgument("Champs invalides : " + names + ". / Invalid fields: " + names + ".", problems);
  }
  return out;
}

json Me(const Principal& p) {
  json j = {{"user_id", p.user_id.empty() ? json(nullptr) : json(p.user_id)},
            {"api_key_id", p.api_key_id.empty() ? json(nullptr) : json(p.api_key_id)},
            {"firm_id", p.firm_id.empty() ? json(nullptr) : json(p.firm_id)},
            {"role", p.role}, {"email", p.email}, {"name", p.name}};
  if (p.via_session) j["csrf_token"] = p.csrf_token;
  j["platform_admin"] = p.is_platform_user();
  j["acting_firm"] = p.acting_in_firm ? json{{"id", p.firm_id}, {"name", p.acting_firm_name},
                                             {"since", p.acting_since}}
                                      : json(nullptr);
  return j;
}

std::string Link(const App& app, const std::string& path, const std::string& token) {
  return app.config.app_url + path + "?token=" + token;
}

}  // namespace

void RegisterAuthRoutes(http::Router& r, App& app) {
  r.Add("POST", "/api/auth/login", [&app](Request& req) {
    auto f = StringFields(req, {"email", "password"});
    if (!f.ok()) return Response::FromError(f.error());
    auto login = app.auth->Login((*f)["email"], (*f)["password"], req.remote_ip, req.Header("User-Agent"));
    if (!login.ok()) {
      Response res = Response::FromError(login.error());
      if (login.error().code == ErrorCode::kRateLimited)
        res.Header("Retry-After", std::to_string(login.error().details.value("retry_after", 60)));
      return res;
    }
    Principal p = login->principal;
    p.ip = req.remote_ip;
    domain::Audit(*app.store, p, "auth.login", "user", p.user_id);
    Response res = Response::Json(200, Me(p));
    res.Header("Set-Cookie", SessionCookieHeader(app.session_cookie, login->session_token));
    return res;
  }, {.auth = AuthMode::kNone, .csrf = false, .max_body = 16 * 1024, .rate_limited = false,
      .summary = "Se connecter (cookie de session HttpOnly ; renvoie le jeton CSRF)", .tag = "auth"});

  r.Add("POST", "/api/auth/logout", [&app](Request& req) {
    std::string cookie = req.Header("Cookie");
    for (auto& part : Split(cookie, ';')) {
      std::string p = Trim(part);
      if (p.rfind(SessionCookieName() + "=", 0) == 0) (void)app.auth->Logout(p.substr(SessionCookieName().size() + 1));
    }
    Response res = Response::NoContent();
    res.Header("Set-Cookie", SessionCookieHeader(app.session_cookie, ""));
    return res;
  }, {.platform_admin_too = true, .summary = "Se déconnecter", .tag = "auth"});

  r.Add("GET", "/api/auth/me", [](Request& req) { return Response::Json(200, Me(req.principal)); },
        {.platform_admin_too = true,
         .summary = "L'utilisateur ou la clé d'API courant(e) ; acting_firm : le cabinet où "
                    "l'administrateur de plateforme agit",
         .tag = "auth"});

  // The firm switcher: the platform admin's session acts in one firm as its admin, audited in
  // the firm's log and the platform's (domain/acting.h).
  r.Add("PUT", "/api/auth/acting-firm", [&app](Request& req) {
    auto f = StringFields(req, {"firm_id"});
    if (!f.ok()) return Response::FromError(f.error());
    auto next = domain::StartActingInFirm(*app.store, req.principal, (*f)["firm_id"]);
    if (!next.ok()) return Response::FromError(next.error());
    return Response::Json(200, Me(*next));
  }, {.platform_admin_too = true, .max_body = 16 * 1024,
      .summary = "Administrateur de plateforme : agir dans un cabinet avec le rôle admin (audité)",
      .tag = "auth"});

  r.Add("DELETE", "/api/auth/acting-firm", [&app](Request& req) {
    auto next = domain::StopActingInFirm(*app.store, req.principal);
    if (!next.ok()) return Response::FromError(next.error());
    return Response::Json(200, Me(*next));
  }, {.platform_admin_too = true,
      .summary = "Administrateur de plateforme : cesser d'agir dans le cabinet (audité)",
      .tag = "auth"});

  r.Add("POST", "/api/auth/password", [&app](Request& req) {
    auto f = StringFields(req, {"current_password", "new_password"});
    if (!f.ok()) return Response::FromError(f.error());
    auto st = app.auth->ChangePassword(req.principal, (*f)["current_password"], (*f)["new_password"]);
    if (!st.ok()) return Response::FromError(st.error());
    domain::Audit(*app.store, req.principal, "auth.password_changed", "user", req.principal.user_id);
    return Response::NoContent();
  }, {.platform_admin_too = true, .max_body = 16 * 1024, .summary = "Changer son mot de passe", .tag = "auth"});

  r.Add("POST", "/api/auth/password-reset", [&app](Request& req) {
    auto f = StringFields(req, {"email"});
    if (!f.ok()) return Response::FromError(f.error());
    std::string mail_id;
    std::optional<std::string> mail_firm;
    auto token = app.auth->CreatePasswordReset(
        (*f)["email"],
        [&](storage::Connection& c, const domain::AuthService::TokenFacts& t) -> Status {
          if (!app.mail) return OkStatus();
          mail::NewMail m;
          if (!t.firm_id.empty()) m.firm_id = t.firm_id;
          m.kind = "password_reset";
          m.to = {t.email};
          m.language = app.mail->UserLanguage(m.firm_id, t.user_id);
          m.content =
              mail::PasswordResetMail(m.language, {t.name, Link(app, "/reset-password", t.token),
                                                   domain::AuthOptions{}.reset_seconds / 60});
          m.user_id = t.user_id;
          mail_firm = m.firm_id;
          CRM_ASSIGN_OR_RETURN(mail_id, app.mail->WriteIn(c, m));
          return OkStatus();
        });
    if (!token.ok()) return Response::FromError(token.error());
    if (!mail_id.empty()) app.mail->Dispatch(mail_firm, mail_id);
    if (!token->empty() && !app.config.is_production())
      log::Info("password reset link (local mode only; the mail is in the outbox)",
                {{"link", Link(app, "/reset-password", *token)}});
    // Same answer whether or not the account exists.
    return Response::Json(202, {{"message", "Si un compte existe pour cette adresse, un lien de réinitialisation a été envoyé."}});
  }, {.auth = AuthMode::kNone, .csrf = false, .max_body = 16 * 1024,
      .summary = "Demander un lien de réinitialisation du mot de passe", .tag = "auth"});

  r.Add("POST", "/api/auth/password-reset/confirm", [&app](Request& req) {
    auto f = StringFields(req, {"token", "password"});
    if (!f.ok()) return Response::FromError(f.error());
    auto st = app.auth->ResetPassword((*f)["token"], (*f)["password"]);
    if (!st.ok()) return Response::FromError(st.error());
    return Response::NoContent();
  }, {.auth = AuthMode::kNone, .csrf = false, .max_body = 16 * 1024,
      .summary = "Choisir un nouveau mot de passe avec le lien reçu", .tag = "auth"});

  r.Add("POST", "/api/invitations", [&app](Request& req) {
    auto f = StringFields(req, {"email"}, {"name", "role"});
    if (!f.ok()) return Response::FromError(f.error());
    std::string role = f->count("role") ? (*f)["role"] : "member";
    if (role == "owner" && req.principal.role != "owner")
      return Response::FromError(Error(ErrorCode::kForbidden, "Seul un propriétaire peut inviter un propriétaire."));
    std::string mail_id;
    auto token = app.auth->CreateInvitation(
        req.principal.firm_id, (*f)["email"], (*f)["name"], role, req.principal.user_id,
        [&](storage::Connection& c, const domain::AuthService::TokenFacts& t) -> Status {
          if (!app.mail) return OkStatus();
          mail::NewMail m;
          m.firm_id = req.principal.firm_id;
          m.kind = "invitation";
          m.to = {t.email};
          m.language = app.mail->FirmLanguage(m.firm_id);
          m.content =
              mail::InvitationMail(m.language, {app.mail->FirmName(m.firm_id), req.principal.name,
                                                role, Link(app, "/invitation", t.token),
                                                domain::AuthOptions{}.invitation_seconds / 86400});
          m.created_by = req.principal.user_id;
          CRM_ASSIGN_OR_RETURN(mail_id, app.mail->WriteIn(c, m));
          return OkStatus();
        });
    if (!token.ok()) return Response::FromError(token.error());
    if (!mail_id.empty()) app.mail->Dispatch(req.principal.firm_id, mail_id);
    domain::Audit(*app.store, req.principal, "user.invited", "invitation", "", {{"email", (*f)["email"]}, {"role", role}});
    std::string link = Link(app, "/invitation", *token);
    if (!app.config.is_production()) log::Info("invitation link (local mode only)", {{"link", link}});
    json out = {
        {"email", ToLowerAscii(Trim((*f)["email"]))}, {"role", role}, {"invitation_link", link}};
    out["mail_id"] = mail_id.empty() ? json(nullptr) : json(mail_id);
    return Response::Json(201, out);
  }, {.min_role = "admin", .max_body = 16 * 1024, .summary = "Inviter un utilisateur dans le cabinet", .tag = "users"});

  r.Add("POST", "/api/invitations/accept", [&app](Request& req) {
    auto f = StringFields(req, {"token", "password"}, {"name"});
    if (!f.ok()) return Response::FromError(f.error());
    auto p = app.auth->AcceptInvitation((*f)["token"], (*f)["name"], (*f)["password"]);
    if (!p.ok()) return Response::FromError(p.error());
    domain::Audit(*app.store, *p, "user.joined", "user", p->user_id);
    return Response::Json(201, {{"user_id", p->user_id}, {"email", p->email}, {"role", p->role}});
  }, {.auth = AuthMode::kNone, .csrf = false, .max_body = 16 * 1024,
      .summary = "Accepter une invitation et choisir son mot de passe", .tag = "users"});

  r.Add("GET", "/api/users", [&app](Request& req) {
    auto users = domain::ListUsers(*app.store, req.principal.firm_id);
    if (!users.ok()) return Response::FromError(users.error());
    return Page(*users, std::nullopt);
  }, {.summary = "Les utilisateurs du cabinet", .tag = "users"});

  r.Add("PATCH", "/api/users/{id}", [&app](Request& req) {
    auto in_firm = domain::CheckUserInFirm(*app.store, req.principal.firm_id, req.Param("id"));
    if (!in_firm.ok()) return Response::FromError(in_firm.error());
    auto body = req.JsonBody();
    if (!body.ok()) return Response::FromError(body.error());
    auto user = domain::UpdateUser(*app.store, req.principal, req.Param("id"), *body);
    if (!user.ok()) return Response::FromError(user.error());
    return Response::Json(200, *user);
  }, {.min_role = "admin", .max_body = 16 * 1024, .summary = "Changer le rôle, le nom, la langue des e-mails (language : fr, en ou null) ou l'état d'un utilisateur", .tag = "users"});

  r.Add("GET", "/api/api-keys", [&app](Request& req) {
    auto keys = app.auth->ListApiKeys(req.principal.firm_id);
    if (!keys.ok()) return Response::FromError(keys.error());
    return Page(*keys, std::nullopt);
  }, {.min_role = "admin", .summary = "Les clés d'API du cabinet", .tag = "api-keys"});

  r.Add("POST", "/api/api-keys", [&app](Request& req) {
    auto f = StringFields(req, {"name"}, {"role"});
    if (!f.ok()) return Response::FromError(f.error());
    auto key = app.auth->CreateApiKey(req.principal.firm_id, (*f)["name"], f->count("role") ? (*f)["role"] : "admin",
                                      req.principal.user_id);
    if (!key.ok()) return Response::FromError(key.error());
    domain::Audit(*app.store, req.principal, "api_key.created", "api_key", key->id);
    json j = key->info;
    j["key"] = key->key;  // shown once
    return Response::Json(201, j);
  }, {.min_role = "admin", .max_body = 16 * 1024, .summary = "Créer une clé d'API (affichée une seule fois)", .tag = "api-keys"});

  r.Add("DELETE", "/api/api-keys/{id}", [&app](Request& req) {
    auto st = app.auth->RevokeApiKey(req.principal.firm_id, req.Param("id"));
    if (!st.ok()) return Response::FromError(st.error());
    domain::Audit(*app.store, req.principal, "api_key.revoked", "api_key", req.Param("id"));
    return Response::NoContent();
  }, {.min_role = "admin", .summary = "Révoquer une clé d'API", .tag = "api-keys"});

  r.Add("GET", "/api/audit", [&app](Request& req) {
    auto page_limit = PageLimit(req);
    if (!page_limit.ok()) return Response::FromError(page_limit.error());
    auto cursor = PageCursor(req);
    if (!cursor.ok()) return Response::FromError(cursor.error());
    auto page = domain::ListAudit(*app.store, req.principal.firm_id, *page_limit, *cursor);
    if (!page.ok()) return Response::FromError(page.error());
    return Page(page->entries, page->next_cursor);
  }, {.min_role = "admin", .summary = "Journal d'audit du cabinet", .tag = "audit",
      .doc = {{"x-list", {"limit", "cursor"}}}});

  r.Add("GET", "/api/admin/audit", [&app](Request& req) {
    auto page_limit = PageLimit(req);
    if (!page_limit.ok()) return Response::FromError(page_limit.error());
    auto cursor = PageCursor(req);
    if (!cursor.ok()) return Response::FromError(cursor.error());
    auto page = domain::ListPlatformAudit(*app.store, *page_limit, *cursor);
    if (!page.ok()) return Response::FromError(page.error());
    return Page(page->entries, page->next_cursor);
  }, {.min_role = "platform_admin",
      .summary = "Journal d'audit de la plateforme (cabinets créés, accès aux cabinets)",
      .tag = "admin", .doc = {{"x-list", {"limit", "cursor"}}}});
}

}  // namespace crm::api
