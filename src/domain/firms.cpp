#include "domain/firms.h"

#include "common/ids.h"
#include "common/text.h"

namespace crm::domain {

using nlohmann::json;

bool IsValidSiret(const std::string& s) {
  if (s.size() != 14) return false;
  int sum = 0;
  for (int i = 0; i < 14; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    int d = s[i] - '0';
    if (i % 2 == 0) {  // every second digit from the left, doubled (Luhn on 14 digits)
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 == 0;
}

namespace {

struct FirmFields {
  std::optional<std::string> name, siret, address, settings;
  bool has_siret = false, has_address = false;
};

Result<FirmFields> ParseFirm(const json& body, bool creating) {
  FirmFields f;
  json problems = json::object();
  for (auto& [k, v] : body.items()) {
    if (k == "version") continue;
    if (k == "name") {
      if (!v.is_string() || Trim(v.get<std::string>()).empty() || v.get<std::string>().size() > 200) problems[k] = "invalid";
      else f.name = Trim(v.get<std::string>());
    } else if (k == "siret") {
      f.has_siret = true;
      if (v.is_null()) continue;
      std::string s;
      if (v.is_string())
        for (char c : v.get<std::string>())
          if (c != ' ') s.push_back(c);
      if (!IsValidSiret(s)) problems[k] = "invalid_siret";
      else f.siret = s;
    } else if (k == "address") {
      f.has_address = true;
      if (v.is_null()) continue;
      if (!v.is_string() || v.get<std::string>().size() > 500) problems[k] = "invalid";
      else f.address = v.get<std::string>();
    } else if (k == "settings") {
      if (!v.is_object() || v.dump().size() > 32 * 1024) problems[k] = "must_be_object";
      else f.settings = v.dump();
    } else {
      problems[k] = "unknown_field";
    }
  }
  if (creating && !f.name && !problems.contains("name")) problems["name"] = "required";
  if (!problems.empty()) return InvalidArgument("Champs invalides pour le cabinet.", problems);
  return f;
}

json FirmJson(const storage::Row& r) {
  json j = r.ToJson();
  j["settings"] = json::parse(r.Text("settings"), nullptr, false);
  if (j["settings"].is_discarded()) j["settings"] = json::object();
  return j;
}

}  // namespace

Result<json> CreateFirm(storage::Store& store, const json& body) {
  CRM_ASSIGN_OR_RETURN(FirmFields f, ParseFirm(body, true));
  std::string id = NewId(), now = NowIsoUtc();
  json settings = f.settings ? json::parse(*f.settings) : json::object();
  if (!settings.contains("timezone")) settings["timezone"] = "Europe/Paris";
  if (!settings.contains("language")) settings["language"] = "fr";
  CRM_TRY(store.Exec("INSERT INTO firms (id, name, siret, address, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     {id, *f.name, storage::Opt(f.siret), storage::Opt(f.address), settings.dump(), now, now}));
  return GetFirm(store, id);
}

Result<json> GetFirm(storage::Store& store, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT * FROM firms WHERE id = ?", {id}));
  if (!row) return NotFound("Cabinet introuvable. / Firm not found.");
  return FirmJson(*row);
}

Result<std::vector<json>> ListFirms(storage::Store& store) {
  CRM_ASSIGN_OR_RETURN(auto rows, store.Query(
      "SELECT f.*, (SELECT COUNT(*) FROM users u WHERE u.firm_id = f.id) AS user_count, "
      "(SELECT COUNT(*) FROM clients c WHERE c.firm_id = f.id) AS client_count FROM firms f ORDER BY f.name, f.id"));
  std::vector<json> out;
  for (auto& r : rows) out.push_back(FirmJson(r));
  return out;
}

Result<json> UpdateFirm(storage::Store& store, const std::string& id, const json& body,
                        std::optional<int64_t> expected_version) {
  CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT version, settings FROM firms WHERE id = ?", {id}));
  if (!row) return NotFound("Cabinet introuvable. / Firm not found.");
  CRM_ASSIGN_OR_RETURN(FirmFields f, ParseFirm(body, false));
  if (!expected_version && body.contains("version") && body["version"].is_number_integer())
    expected_version = body["version"].get<int64_t>();
  int64_t current = row->Int("version");
  if (expected_version && *expected_version != current)
    return Error(ErrorCode::kConflict, "Le cabinet a été modifié entre-temps : rechargez-le.", {{"current_version", current}});
  std::string sets = "updated_at = ?, version = version + 1";
  storage::Params p = {NowIsoUtc()};
  if (f.name) { sets += ", name = ?"; p.push_back(*f.name); }
  if (f.has_siret) { sets += ", siret = ?"; p.push_back(storage::Opt(f.siret)); }
  if (f.has_address) { sets += ", address = ?"; p.push_back(storage::Opt(f.address)); }
  if (f.settings) {
    json merged = json::parse(row->Text("settings"), nullptr, false);
    if (!merged.is_object()) merged = json::object();
    merged.update(json::parse(*f.settings));
    sets += ", settings = ?";
    p.push_back(merged.dump());
  }
  p.push_back(id);
  p.push_back(current);
  CRM_ASSIGN_OR_RETURN(int64_t n, store.Exec("UPDATE firms SET " + sets + " WHERE id = ? AND version = ?", p));
  if (n == 0) return Error(ErrorCode::kConflict, "Le cabinet a été modifié entre-temps : rechargez-le.");
  return GetFirm(store, id);
}

}  // namespace crm::domain
