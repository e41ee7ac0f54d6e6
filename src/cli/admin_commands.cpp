// Administration from the shell: migrate, firm, user, apikey. They work while `serve` and workers
// run on the same data (SQLite in WAL mode; no exclusive lock).
#include <iostream>

#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "common/text.h"
#include "domain/audit.h"
#include "domain/firms.h"
#include "storage/migrations/migrations.h"

namespace crm::cli {

using nlohmann::json;

int RunMigrate(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {"from-sqlite"}, {"status"});
  if (!args.ok()) return Fail(args.error().message);
  if (args->Value("from-sqlite"))
    return Fail("migrate --from-sqlite needs DB_CONNECTION=mariadb, which this build does not include");
  auto app = OpenFromEnvironment(false);
  if (!app.ok()) return Fail(app.error().message);
  if (args->Flag("status")) {
    auto st = storage::MigrationStatus(*(*app)->store);
    if (!st.ok()) return Fail(st.error().message);
    for (auto& m : *st)
      std::cout << (m.applied_at.empty() ? "pending " : "applied ") << m.version << " " << m.name
                << (m.applied_at.empty() ? "" : " " + m.applied_at) << "\n";
    return 0;
  }
  auto n = storage::ApplyMigrations(*(*app)->store);
  if (!n.ok()) return Fail(n.error().message);
  std::cout << *n << " migration(s) applied\n";
  return 0;
}

int RunFirm(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {"name", "siret", "address"}, {});
  if (!args.ok()) return Fail(args.error().message);
  std::string sub = args->positional.empty() ? "" : args->positional[0];
  auto app = OpenFromEnvironment(true);
  if (!app.ok()) return Fail(app.error().message);
  auto& store = *(*app)->store;
  if (sub == "create") {
    if (!args->Value("name")) return Fail("firm create needs --name NAME");
    json body = {{"name", *args->Value("name")}};
    if (auto s = args->Value("siret")) body["siret"] = *s;
    if (auto a = args->Value("address")) body["address"] = *a;
    auto firm = domain::CreateFirm(store, body);
    if (!firm.ok()) return Fail(firm.error().message + (firm.error().details.is_null() ? "" : " " + firm.error().details.dump()));
    std::cout << (*firm)["id"].get<std::string>() << "\n";
    return 0;
  }
  if (sub == "list") {
    auto firms = domain::ListFirms(store);
    if (!firms.ok()) return Fail(firms.error().message);
    for (auto& f : *firms)
      std::cout << f["id"].get<std::string>() << "\t" << f["name"].get<std::string>() << "\t"
                << f["user_count"] << " users\t" << f["client_count"] << " clients\n";
    return 0;
  }
  return Fail("usage: crm-ai firm create --name NAME [--siret S] [--address A] | firm list");
}

int RunUser(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {"firm", "email", "role", "name"}, {"password-stdin", "platform-admin"});
  if (!args.ok()) return Fail(args.error().message);
  std::string sub = args->positional.empty() ? "" : args->positional[0];
  auto app = OpenFromEnvironment(true);
  if (!app.ok()) return Fail(app.error().message);
  auto& a = **app;
  if (sub == "create") {
    if (!args->Value("email")) return Fail("user create needs --email EMAIL");
    bool platform = args->Flag("platform-admin");
    if (!platform && (!args->Value("firm") || !args->Value("role")))
      return Fail("user create needs --firm ID --role owner|admin|member (or --platform-admin)");
    if (platform && (args->Value("firm") || args->Value("role")))
      return Fail("--platform-admin takes no --firm or --role");
    std::string password;
    if (args->Flag("password-stdin")) {
      std::getline(std::cin, password);
      while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) password.pop_back();
    }
    if (!platform) {
      auto firm = domain::GetFirm(*a.store, *args->Value("firm"));
      if (!firm.ok()) return Fail("no firm with id " + *args->Value("firm") + " (see crm-ai firm list)");
    }
    auto id = a.auth->CreateUser(platform ? "" : *args->Value("firm"), *args->Value("email"),
                                 args->Value("name").value_or(""), platform ? "platform_admin" : *args->Value("role"),
                                 password);
    if (!id.ok()) return Fail(id.error().message);
    std::cout << *id << "\n";
    return 0;
  }
  if (sub == "list") {
    std::string sql = "SELECT id, firm_id, email, name, role, disabled FROM users";
    storage::Params p;
    if (auto f = args->Value("firm")) {
      sql += " WHERE firm_id = ?";
      p.push_back(*f);
    }
    auto rows = a.store->Query(sql + " ORDER BY firm_id, email", p);
    if (!rows.ok()) return Fail(rows.error().message);
    for (auto& r : *rows)
      std::cout << r.Text("id") << "\t" << (r.IsNull("firm_id") ? "-" : r.Text("firm_id")) << "\t" << r.Text("email")
                << "\t" << r.Text("role") << (r.Int("disabled") ? "\tdisabled" : "") << "\n";
    return 0;
  }
  if (sub == "reset-link") {
    if (!args->Value("email")) return Fail("user reset-link needs --email EMAIL");
    auto token = a.auth->CreatePasswordReset(*args->Value("email"));
    if (!token.ok()) return Fail(token.error().message);
    if (token->empty()) return Fail("no active account with email " + *args->Value("email"));
    std::cout << a.config.app_url << "/reset-password?token=" << *token << "\n";
    return 0;
  }
  return Fail("usage: crm-ai user create|list|reset-link ... (see crm-ai help user)");
}

int RunApiKey(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {"firm", "name", "role", "id"}, {});
  if (!args.ok()) return Fail(args.error().message);
  std::string sub = args->positional.empty() ? "" : args->positional[0];
  auto app = OpenFromEnvironment(true);
  if (!app.ok()) return Fail(app.error().message);
  auto& a = **app;
  if (!args->Value("firm")) return Fail("apikey " + sub + " needs --firm ID");
  std::string firm = *args->Value("firm");
  if (!domain::GetFirm(*a.store, firm).ok()) return Fail("no firm with id " + firm + " (see crm-ai firm list)");
  if (sub == "create") {
    if (!args->Value("name")) return Fail("apikey create needs --name NAME");
    auto key = a.auth->CreateApiKey(firm, *args->Value("name"), args->Value("role").value_or("admin"), "");
    if (!key.ok()) return Fail(key.error().message);
    Principal cli;
    cli.firm_id = firm;
    domain::Audit(*a.store, cli, "api_key.created", "api_key", key->id, {{"via", "cli"}});
    std::cout << key->key << "\n";
    return 0;
  }
  if (sub == "list") {
    auto keys = a.auth->ListApiKeys(firm);
    if (!keys.ok()) return Fail(keys.error().message);
    for (auto& k : *keys)
      std::cout << k["id"].get<std::string>() << "\t" << k["name"].get<std::string>() << "\t" << k["prefix"].get<std::string>()
                << "…\t" << k["role"].get<std::string>() << (k["revoked_at"].is_null() ? "" : "\trevoked") << "\n";
    return 0;
  }
  if (sub == "revoke") {
    std::string id = args->Value("id").value_or(args->positional.size() > 1 ? args->positional[1] : "");
    if (id.empty()) return Fail("apikey revoke needs the key id (see crm-ai apikey list)");
    auto st = a.auth->RevokeApiKey(firm, id);
    if (!st.ok()) return Fail(st.error().message);
    std::cout << "revoked " << id << "\n";
    return 0;
  }
  return Fail("usage: crm-ai apikey create|list|revoke --firm ID ...");
}

}  // namespace crm::cli
