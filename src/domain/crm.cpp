#include "domain/crm.h"

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

}  // namespace crm::domain
