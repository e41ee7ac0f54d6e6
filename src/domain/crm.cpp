#include "domain/crm.h"

#include <algorithm>

namespace crm::domain {

using F = FieldType;

const ResourceSpec& ClientSpec() {
  static const ResourceSpec spec = {
      "clients", "client",
      {
          {.name = "kind", .type = F::kEnum, .enum_values = {"person", "company"}, .filterable = true,
           .description = "person (particulier) or company (société)"},
          {.name = "name", .type = F::kString, .required = true, .searchable = true, .sortable = true,
           .description = "Nom du client"},
          {.name = "company", .type = F::kString, .searchable = true, .sortable = true},
          {.name = "email", .type = F::kEmail, .max_len = 254, .searchable = true},
          {.name = "phone", .type = F::kPhone, .max_len = 30},
          {.name = "address", .type = F::kText, .max_len = 500},
          {.name = "tags", .type = F::kStringList, .searchable = true, .filterable = true,
           .description = "Étiquettes ; ?tags=X filtre sur une étiquette exacte"},
          {.name = "notes", .type = F::kText, .max_len = 20000, .searchable = true},
          {.name = "reference", .type = F::kString, .max_len = 64, .searchable = true, .sortable = true,
           .filterable = true, .description = "Numéro de dossier"},
          {.name = "owner_user_id", .type = F::kRef, .ref_table = "users", .filterable = true},
      }};
  return spec;
}

const ResourceSpec& ContactSpec() {
  static const ResourceSpec spec = {
      "contacts", "contact",
      {
          {.name = "client_id", .type = F::kRef, .ref_table = "clients", .read_only = true},
          {.name = "name", .type = F::kString, .required = true, .searchable = true, .sortable = true},
          {.name = "email", .type = F::kEmail, .max_len = 254, .searchable = true},
          {.name = "phone", .type = F::kPhone, .max_len = 30},
          {.name = "role", .type = F::kString, .max_len = 100, .searchable = true,
           .description = "Fonction (gérant, conjoint, expert-comptable...)"},
      },
      false};
  return spec;
}

const ResourceSpec& MeetingSpec() {
  static const ResourceSpec spec = {
      "meetings", "rendez-vous",
      {
          {.name = "client_id", .type = F::kRef, .required = true, .ref_table = "clients", .filterable = true},
          {.name = "title", .type = F::kString, .required = true, .searchable = true, .sortable = true},
          {.name = "starts_at", .type = F::kDateTime, .required = true, .sortable = true},
          {.name = "duration_minutes", .type = F::kInt},
          {.name = "location", .type = F::kString, .max_len = 300, .searchable = true},
          {.name = "video_link", .type = F::kString, .max_len = 500},
          {.name = "notes", .type = F::kText, .max_len = 20000, .searchable = true},
          {.name = "participants", .type = F::kJsonArray, .searchable = true,
           .description = "[{\"user_id\"} | {\"contact_id\"} | {\"name\", \"email\"}]"},
      }};
  return spec;
}

const ResourceSpec& TaskSpec() {
  static const ResourceSpec spec = {
      "tasks", "tâche",
      {
          {.name = "title", .type = F::kString, .required = true, .searchable = true, .sortable = true},
          {.name = "notes", .type = F::kText, .max_len = 20000, .searchable = true},
          {.name = "due_date", .type = F::kDate, .sortable = true},
          {.name = "assignee_user_id", .type = F::kRef, .ref_table = "users", .filterable = true},
          {.name = "status", .type = F::kEnum, .enum_values = {"todo", "in_progress", "done", "cancelled"},
           .sortable = true, .filterable = true},
          {.name = "client_id", .type = F::kRef, .ref_table = "clients", .filterable = true},
          {.name = "meeting_id", .type = F::kRef, .ref_table = "meetings", .filterable = true},
      },
      false};
  return spec;
}

Result<std::vector<nlohmann::json>> ClientTimeline(storage::Store& store,
                                                   const std::string& firm_id,
                                                   const std::string& client) {
  using nlohmann::json;
  CRM_ASSIGN_OR_RETURN(auto note,
                       store.QueryOne("SELECT notes, updated_at FROM clients WHERE firm_id = ? AND "
                                      "id = ?",
                                      {firm_id, client}));
  if (!note) return NotFound("Ce client est introuvable. / Client not found.");
  CRM_ASSIGN_OR_RETURN(auto meetings,
                       store.Query("SELECT id, title, starts_at, notes FROM meetings WHERE firm_id "
                                   "= ? AND client_id = ? ORDER BY starts_at DESC LIMIT 200",
                                   {firm_id, client}));
  CRM_ASSIGN_OR_RETURN(auto tasks,
                       store.Query("SELECT id, title, due_date, status, created_at FROM tasks "
                                   "WHERE firm_id = ? AND client_id = ? ORDER BY id DESC LIMIT 200",
                                   {firm_id, client}));
  CRM_ASSIGN_OR_RETURN(auto recordings,
                       store.Query("SELECT id, meeting_id, title, original_name, created_at FROM "
                                   "recordings WHERE firm_id = ? AND client_id = ? ORDER BY id "
                                   "DESC LIMIT 200",
                                   {firm_id, client}));
  CRM_ASSIGN_OR_RETURN(auto documents,
                       store.Query("SELECT id, meeting_id, name, content_type, created_at FROM "
                                   "documents WHERE firm_id = ? AND client_id = ? ORDER BY id "
                                   "DESC LIMIT 200",
                                   {firm_id, client}));
  std::vector<json> items;
  auto opt = [](const storage::Row& r, const char* c) { return r.IsNull(c) ? json(nullptr) : json(r.Text(c)); };
  for (const auto& r : recordings)
    items.push_back({{"type", "recording"},
                     {"id", r.Text("id")},
                     {"title", r.Text("title").empty() ? r.Text("original_name") : r.Text("title")},
                     {"at", r.Text("created_at")},
                     {"meeting_id", opt(r, "meeting_id")}});
  for (const auto& d : documents)
    items.push_back({{"type", "document"},
                     {"id", d.Text("id")},
                     {"title", d.Text("name")},
                     {"at", d.Text("created_at")},
                     {"meeting_id", opt(d, "meeting_id")},
                     {"content_type", d.Text("content_type")},
                     {"download_url", "/api/documents/" + d.Text("id") + "/download"}});
  for (const auto& m : meetings)
    items.push_back({{"type", "meeting"},
                     {"id", m.Text("id")},
                     {"title", m.Text("title")},
                     {"at", m.Text("starts_at")},
                     {"notes", m.IsNull("notes") ? json(nullptr) : json(m.Text("notes"))}});
  for (const auto& t : tasks)
    items.push_back(
        {{"type", "task"},
         {"id", t.Text("id")},
         {"title", t.Text("title")},
         {"at", t.IsNull("due_date") ? t.Text("created_at") : t.Text("due_date") + "T00:00:00Z"},
         {"status", t.Text("status")}});
  if (!note->IsNull("notes") && !note->Text("notes").empty())
    items.push_back({{"type", "note"},
                     {"id", client},
                     {"title", "Notes"},
                     {"at", note->Text("updated_at")},
                     {"notes", note->Text("notes")}});
  std::stable_sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["at"].get<std::string>() > b["at"].get<std::string>();
  });
  return items;
}

}  // namespace crm::domain
