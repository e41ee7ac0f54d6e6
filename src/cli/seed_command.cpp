// `crm-ai seed`: demo data — two firms, their users (logins printed), French clients with
// accents, contacts, meetings and tasks — and a platform admin.
#include <iostream>

#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "common/text.h"
#include "domain/crm.h"
#include "domain/firms.h"

namespace crm::cli {

using nlohmann::json;

namespace {

const char* kDemoPassword = "demo-crm-ai-2026";

struct DemoFirm {
  const char* name;
  const char* siret;
  const char* address;
  const char* domain;
  std::vector<std::pair<const char*, const char*>> users;  // name, role
  std::vector<const char*> clients;
  std::vector<const char*> meeting_titles;
};

}  // namespace

int RunSeed(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {}, {"if-empty", "force"});
  if (!args.ok()) return Fail(args.error().message);
  auto app = OpenFromEnvironment(true);
  if (!app.ok()) return Fail(app.error().message);
  auto& a = **app;
  if (a.config.is_production() && !args->Flag("force"))
    return Fail("refusing to load demo data with APP_ENV=production (its logins use a public demo password); "
                "use --force if you really want it");
  auto count = a.store->QueryOne("SELECT COUNT(*) AS n FROM firms");
  if (!count.ok()) return Fail(count.error().message);
  if ((*count)->Int("n") > 0) {
    if (args->Flag("if-empty")) {
      std::cerr << "crm-ai: the database already has data; demo data not loaded\n";
      return 0;
    }
    return Fail("the database already has firms; seed loads demo data into an empty installation only (use --if-empty to skip quietly)");
  }
  std::vector<DemoFirm> firms = {
      {"Cabinet Dupont & Associés", "73282932000074", "12 rue de la Paix, 75002 Paris", "dupont-avocats.fr",
       {{"Maître Hélène Dupont", "owner"}, {"Maître François Lefèvre", "admin"}, {"Chloé Martin", "member"}},
       {"Amélie Garçon", "Benoît Lemaître", "Céline Bézier", "Édouard Pétain-Roux", "Françoise Noël", "Gérard Dubœuf",
        "Hélène Caillé", "Île-de-France Immobilier SAS", "Jérôme Lagarde", "Léa Müller", "Maëlle Lefèbvre",
        "Noémie Chrétien"},
       {"Premier rendez-vous : succession", "Point sur le dossier prud'homal", "Signature du bail commercial"}},
      {"Fiduciaire Lefèvre", "40483304800022", "8 place Bellecour, 69002 Lyon", "fiduciaire-lefevre.fr",
       {{"Arnaud Lefèvre", "owner"}, {"Sophie Bérénice", "admin"}, {"Théo Gauthier", "member"}},
       {"Boulangerie Brûlé SARL", "Camille Rousseau", "Daniel Ferrière", "Élodie Saint-Étienne", "Garage Cœur de Lyon",
        "Inès Benoît", "Jean-Loïc Perrault", "Manon Pâris", "Océane Faure", "Zoé Ménard"},
       {"Bilan annuel", "Déclaration de TVA", "Création de société : statuts"}},
  };
  std::cout << "Demo logins (password for all: " << kDemoPassword << "):\n";
  auto platform = a.auth->CreateUser("", "admin@crm-ai.local", "Administrateur plateforme", "platform_admin", kDemoPassword);
  if (!platform.ok()) return Fail(platform.error().message);
  std::cout << "  platform admin  admin@crm-ai.local\n";
  int day = 0;
  for (auto& f : firms) {
    auto firm = domain::CreateFirm(*a.store, {{"name", f.name}, {"siret", f.siret}, {"address", f.address}});
    if (!firm.ok()) return Fail(firm.error().message);
    std::string firm_id = (*firm)["id"];
    std::vector<std::string> user_ids;
    for (auto& [name, role] : f.users) {
      std::string first = FoldForSearch(Split(name, ' ').back());
      std::string email = first + "@" + f.domain;
      auto id = a.auth->CreateUser(firm_id, email, name, role, kDemoPassword);
      if (!id.ok()) return Fail(id.error().message);
      user_ids.push_back(*id);
      std::cout << "  " << f.name << "  " << role << "  " << email << "\n";
    }
    int i = 0;
    for (const char* client_name : f.clients) {
      std::string n = client_name;
      bool company = n.find("SAS") != std::string::npos || n.find("SARL") != std::string::npos ||
                     n.find("Garage") != std::string::npos;
      std::string slug = FoldForSearch(Split(n, ' ').front());
      json body = {{"kind", company ? "company" : "person"}, {"name", n},
                   {"email", slug + "." + std::to_string(i) + "@exemple.fr"}, {"phone", "+33 6 12 34 56 " + std::to_string(10 + i)},
                   {"reference", std::string(i % 2 ? "DOS-" : "REF-") + std::to_string(2026000 + i)},
                   {"tags", i % 3 == 0 ? json::array({"prioritaire", "famille"}) : json::array({"entreprise"})},
                   {"notes", "Client suivi depuis " + std::to_string(2015 + i % 10) + ". Préfère être contacté le matin."},
                   {"owner_user_id", user_ids[i % user_ids.size()]}};
      auto client = a.records->Create(firm_id, domain::ClientSpec(), body);
      if (!client.ok()) return Fail(client.error().message + " " + client.error().details.dump());
      std::string client_id = (*client)["id"];
      (void)a.records->Create(firm_id, domain::ContactSpec(),
                              {{"name", "Contact de " + n}, {"role", company ? "gérant" : "conjoint"},
                               {"email", "contact." + slug + std::to_string(i) + "@exemple.fr"}},
                              {{"client_id", client_id}});
      if (i < static_cast<int>(f.meeting_titles.size()) * 2) {
        std::string starts = FormatIsoUtc(NowUnix() + (day++ - 3) * 86400 + 9 * 3600);
        auto meeting = a.records->Create(
            firm_id, domain::MeetingSpec(),
            {{"client_id", client_id}, {"title", f.meeting_titles[i % f.meeting_titles.size()]},
             {"starts_at", starts}, {"duration_minutes", 45}, {"location", "Bureau principal"},
             {"participants", json::array({{{"user_id", user_ids[0]}}, {{"name", n}}})},
             {"notes", "Apporter les pièces justificatives."}});
        if (!meeting.ok()) return Fail(meeting.error().message);
        (void)a.records->Create(firm_id, domain::TaskSpec(),
                                {{"title", "Envoyer le compte-rendu à " + n}, {"status", "todo"},
                                 {"due_date", FormatIsoUtc(NowUnix() + (i + 2) * 86400).substr(0, 10)},
                                 {"assignee_user_id", user_ids[i % user_ids.size()]}, {"client_id", client_id},
                                 {"meeting_id", (*meeting)["id"]}});
      }
      ++i;
    }
  }
  std::cout << "Demo data loaded: 2 firms, " << 6 << " users, 22 clients.\n";
  return 0;
}

}  // namespace crm::cli
