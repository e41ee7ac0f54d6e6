#include "domain/records.h"

#include "common/ids.h"
#include "common/json_writer.h"
#include "common/text.h"
#include "domain/voiceprints.h"

namespace crm::domain {

using storage::Null;
using storage::Value;
using nlohmann::json;

const FieldSpec* ResourceSpec::Field(const std::string& name) const {
  for (const auto& f : fields)
    if (f.name == name) return &f;
  return nullptr;
}

namespace {

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool IsJsonColumn(FieldType t) { return t == FieldType::kStringList || t == FieldType::kJsonArray; }

// Checks one field's JSON value; on success stores the database value.
std::optional<std::string> CheckField(const FieldSpec& f, const json& v, Value* out) {
  if (v.is_null()) {
    if (f.required) return "required";
    *out = Null{};
    return std::nullopt;
  }
  switch (f.type) {
    case FieldType::kString:
    case FieldType::kText:
    case FieldType::kEmail:
    case FieldType::kPhone:
    case FieldType::kDateTime:
    case FieldType::kDate:
    case FieldType::kEnum:
    case FieldType::kRef: {
      if (!v.is_string()) return "must_be_string";
      std::string s = f.type == FieldType::kText ? v.get<std::string>() : Trim(v.get<std::string>());
      if (!IsValidUtf8(s)) return "invalid_utf8";
      if (s.empty()) {
        if (f.required) return "required";
        *out = Null{};
        return std::nullopt;
      }
      if (CodePoints(s) > f.max_len) return "too_long";
      if (f.type == FieldType::kEmail) {
        auto at = s.find('@');
        if (at == std::string::npos || at == 0 || s.find('.', at) == std::string::npos || s.find(' ') != std::string::npos)
          return "invalid_email";
        s = ToLowerAscii(s);
      } else if (f.type == FieldType::kPhone) {
        for (char c : s)
          if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '+' || c == ' ' || c == '.' || c == '-' || c == '(' || c == ')'))
            return "invalid_phone";
      } else if (f.type == FieldType::kDateTime) {
        auto t = ParseIsoTime(s);
        if (!t) return "invalid_datetime";
        s = FormatIsoUtc(*t);
      } else if (f.type == FieldType::kDate) {
        auto t = ParseIsoTime(s);
        if (!t || s.size() != 10) return "invalid_date";
      } else if (f.type == FieldType::kEnum) {
        bool ok = false;
        for (auto& e : f.enum_values) ok |= (e == s);
        if (!ok) return "invalid_value";
      } else if (f.type == FieldType::kRef) {
        if (s.size() > 64) return "not_found";
      }
      *out = s;
      return std::nullopt;
    }
    case FieldType::kInt:
      if (!v.is_number_integer()) return "must_be_integer";
      if (v.get<int64_t>() < 0 || v.get<int64_t>() > 1000000000) return "out_of_range";
      *out = v.get<int64_t>();
      return std::nullopt;
    case FieldType::kBool:
      if (!v.is_boolean()) return "must_be_boolean";
      *out = int64_t{v.get<bool>() ? 1 : 0};
      return std::nullopt;
    case FieldType::kStringList: {
      if (!v.is_array()) return "must_be_array_of_strings";
      if (v.size() > 50) return "too_many_items";
      json clean = json::array();
      for (auto& item : v) {
        if (!item.is_string()) return "must_be_array_of_strings";
        std::string s = Trim(item.get<std::string>());
        if (s.empty() || CodePoints(s) > 50) return "invalid_item";
        clean.push_back(s);
      }
      *out = clean.dump();
      return std::nullopt;
    }
    case FieldType::kJsonArray: {
      if (!v.is_array()) return "must_be_array";
      if (v.size() > 100) return "too_many_items";
      for (auto& item : v)
        if (!item.is_object()) return "items_must_be_objects";
      std::string dumped = v.dump();
      if (dumped.size() > f.max_len * 100) return "too_long";
      *out = dumped;
      return std::nullopt;
    }
  }
  return "invalid";
}

std::string ValueText(const Value& v) {
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  return {};
}

Error NotFoundFor(const ResourceSpec& spec) {
  return NotFound("Ce " + spec.label_fr + " est introuvable. / " + spec.table + " record not found.");
}

}  // namespace

Result<bool> RecordStore::ExistsInFirm(const std::string& firm_id, const std::string& table,
                                       const std::string& id) {
  // table comes from a ResourceSpec (code), never from the request.
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT id FROM " + table + " WHERE id = ? AND firm_id = ?",
                                                 {id, firm_id}));
  return row.has_value();
}

Result<std::map<std::string, Value>> RecordStore::Validate(const std::string& firm_id,
                                                           const ResourceSpec& spec,
                                                           const json& body, bool creating) {
  json problems = json::object();
  std::map<std::string, Value> values;
  for (auto& [key, v] : body.items()) {
    if (key == "version") {
      if (!v.is_number_integer()) problems[key] = "must_be_integer";
      continue;
    }
    const FieldSpec* f = spec.Field(key);
    if (!f) {
      problems[key] = (key == "id" || key == "created_at" || key == "updated_at" || key == "firm_id") ? "read_only" : "unknown_field";
      continue;
    }
    if (f->read_only) {
      problems[key] = "read_only";
      continue;
    }
    Value out;
    if (auto err = CheckField(*f, v, &out)) {
      problems[key] = *err;
      continue;
    }
    if (f->type == FieldType::kRef && std::holds_alternative<std::string>(out)) {
      CRM_ASSIGN_OR_RETURN(bool exists, ExistsInFirm(firm_id, f->ref_table, std::get<std::string>(out)));
      if (!exists) {
        problems[key] = "not_found";
        continue;
      }
    }
    values[key] = std::move(out);
  }
  if (creating)
    for (const auto& f : spec.fields)
      if (f.required && !f.read_only && !body.contains(f.name) && !problems.contains(f.name))
        problems[f.name] = "required";
  if (!problems.empty()) {
    std::string names;
    for (auto& [k, _] : problems.items()) names += (names.empty() ? "" : ", ") + k;
    return InvalidArgument("Champs invalides : " + names + ". / Invalid fields: " + names + ".", problems);
  }
  return values;
}

Result<std::string> RecordStore::SearchText(const ResourceSpec& spec,
                                            const std::map<std::string, Value>& values,
                                            const std::optional<storage::Row>& existing) {
  std::string text;
  for (const auto& f : spec.fields) {
    if (!f.searchable) continue;
    std::string part;
    if (auto it = values.find(f.name); it != values.end()) part = ValueText(it->second);
    else if (existing) part = existing->Text(f.name);
    if (IsJsonColumn(f.type) && !part.empty()) {
      json arr = json::parse(part, nullptr, false);
      part.clear();
      if (arr.is_array())
        for (auto& item : arr) part += " " + (item.is_string() ? item.get<std::string>() : item.dump());
    }
    if (!part.empty()) text += FoldForSearch(part) + " ";
  }
  return text;
}

json RecordStore::ToApi(const ResourceSpec& spec, const storage::Row& row) const {
  json j = {{"id", row.Text("id")}};
  for (const auto& f : spec.fields) {
    if (row.IsNull(f.name)) {
      j[f.name] = IsJsonColumn(f.type) ? json::array() : json(nullptr);
    } else if (IsJsonColumn(f.type)) {
      json arr = json::parse(row.Text(f.name), nullptr, false);
      j[f.name] = arr.is_discarded() ? json::array() : arr;
    } else if (f.type == FieldType::kInt) {
      j[f.name] = row.Int(f.name);
    } else if (f.type == FieldType::kBool) {
      j[f.name] = row.Int(f.name) != 0;
    } else {
      j[f.name] = row.Text(f.name);
    }
  }
  j["version"] = row.Int("version");
  j["created_at"] = row.Text("created_at");
  j["updated_at"] = row.Text("updated_at");
  return j;
}

std::string RecordStore::SelectColumns(const ResourceSpec& spec) const {
  std::string cols = "id, version, created_at, updated_at";
  for (const auto& f : spec.fields) cols += ", " + f.name;
  return cols;
}

// The same object as ToApi(), written straight into `out` from the statement's row (list pages
// are the hot path). Columns come in SelectColumns() order: id, version, created_at, updated_at,
// then the fields. Field names are identifiers and need no escaping.
void RecordStore::AppendApiJson(std::string& out, const ResourceSpec& spec, const storage::RowView& row) const {
  out += "{\"id\":";
  AppendJsonString(out, row.Text(0));
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    const auto& f = spec.fields[i];
    out += ",\"";
    out += f.name;
    out += "\":";
    size_t col = 4 + i;
    if (row.IsNull(col)) {
      out += IsJsonColumn(f.type) ? "[]" : "null";
    } else if (IsJsonColumn(f.type)) {
      out += row.Text(col);  // stored as JSON written by this module
    } else if (f.type == FieldType::kInt) {
      AppendJsonInt(out, row.Int(col));
    } else if (f.type == FieldType::kBool) {
      out += row.Int(col) ? "true" : "false";
    } else {
      AppendJsonString(out, row.Text(col));
    }
  }
  out += ",\"version\":";
  AppendJsonInt(out, row.Int(1));
  out += ",\"created_at\":";
  AppendJsonString(out, row.Text(2));
  out += ",\"updated_at\":";
  AppendJsonString(out, row.Text(3));
  out.push_back('}');
}

Result<json> RecordStore::Create(const std::string& firm_id, const ResourceSpec& spec,
                                 const json& body, const std::map<std::string, std::string>& fixed) {
  CRM_ASSIGN_OR_RETURN(auto values, Validate(firm_id, spec, body, true));
  for (auto& [k, v] : fixed) values[k] = v;
  std::string id = NewId(), now = NowIsoUtc();
  std::string cols = "id, firm_id, created_at, updated_at, version", marks = "?, ?, ?, ?, 1";
  storage::Params params = {id, firm_id, now, now};
  for (auto& [k, v] : values) {
    cols += ", " + k;  // k is a FieldSpec name (validated above), never raw input
    marks += ", ?";
    params.push_back(v);
  }
  if (spec.has_search_text) {
    CRM_ASSIGN_OR_RETURN(std::string st, SearchText(spec, values, std::nullopt));
    cols += ", search_text";
    marks += ", ?";
    params.push_back(st);
  }
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(c.Exec("INSERT INTO " + spec.table + " (" + cols + ") VALUES (" + marks + ")", params));
    return BumpFirmDataVersionIn(c, firm_id);
  }));
  return Get(firm_id, spec, id);
}

Result<json> RecordStore::Get(const std::string& firm_id, const ResourceSpec& spec,
                              const std::string& id, const std::map<std::string, std::string>& scope) {
  std::string sql = "SELECT * FROM " + spec.table + " WHERE id = ? AND firm_id = ?";
  storage::Params params = {id, firm_id};
  for (auto& [k, v] : scope) {
    sql += " AND " + k + " = ?";
    params.push_back(v);
  }
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne(sql, params));
  if (!row) return NotFoundFor(spec);
  return ToApi(spec, *row);
}

Result<ListPage> RecordStore::List(const std::string& firm_id, const ResourceSpec& spec,
                                   const ListQuery& query, const std::map<std::string, std::string>& scope) {
  std::string sort_col = "id";
  bool desc = false;
  if (!query.sort.empty()) {
    desc = query.sort[0] == '-';
    sort_col = desc ? query.sort.substr(1) : query.sort;
  }
  std::string sql = "SELECT " + SelectColumns(spec) + " FROM " + spec.table + " WHERE firm_id = ?";
  storage::Params params = {firm_id};
  for (auto& [k, v] : scope) {
    sql += " AND " + k + " = ?";
    params.push_back(v);
  }
  for (auto& [k, v] : query.filters) {
    sql += " AND " + k + " = ?";
    params.push_back(v);
  }
  if (!query.q.empty() && spec.has_search_text) {
    for (auto& word : Split(FoldForSearch(query.q), ' ')) {
      if (word.empty()) continue;
      sql += " AND " + store_.dialect().ContainsClause("search_text");
      params.push_back(store_.dialect().ContainsPattern(word));
    }
  }
  std::string key = sort_col == "id" ? "id" : "COALESCE(" + sort_col + ", '')";
  if (!query.cursor.empty()) {
    auto raw = Base64UrlDecode(query.cursor);
    json c = raw ? json::parse(*raw, nullptr, false) : json();
    if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_string())
      return InvalidArgument("Curseur invalide. / Invalid cursor.", {{"cursor", "invalid"}});
    const char* op = desc ? "<" : ">";
    if (sort_col == "id") {
      sql += std::string(" AND id ") + op + " ?";
      params.push_back(c[1].get<std::string>());
    } else {
      sql += " AND (" + key + " " + op + " ? OR (" + key + " = ? AND id " + op + " ?))";
      params.push_back(c[0].get<std::string>());
      params.push_back(c[0].get<std::string>());
      params.push_back(c[1].get<std::string>());
    }
  }
  const char* dir = desc ? " DESC" : " ASC";
  sql += " ORDER BY " + key + dir + (sort_col == "id" ? "" : std::string(", id") + dir);
  sql += " LIMIT " + std::to_string(query.limit + 1);
  size_t sort_index = 0;  // column of the sort key in SelectColumns() order
  if (sort_col == "created_at") sort_index = 2;
  else if (sort_col == "updated_at") sort_index = 3;
  for (size_t i = 0; i < spec.fields.size(); ++i)
    if (spec.fields[i].name == sort_col) sort_index = 4 + i;
  ListPage page;
  page.json.reserve(64 + static_cast<size_t>(query.limit) * 512);
  page.json += "{\"data\":[";
  std::string last_key, last_id;
  bool more = false;
  CRM_TRY(store_.ForEachRow(sql, params, [&](const storage::RowView& row) -> Status {
    if (static_cast<int>(page.count) == query.limit) {
      more = true;
      return OkStatus();
    }
    if (page.count++) page.json.push_back(',');
    AppendApiJson(page.json, spec, row);
    last_id.assign(row.Text(0));
    last_key.assign(row.Text(sort_index));
    return OkStatus();
  }));
  page.json += "],\"next_cursor\":";
  if (more) {
    page.next_cursor = Base64UrlEncode(json::array({sort_col == "id" ? last_id : last_key, last_id}).dump());
    AppendJsonString(page.json, *page.next_cursor);
  } else {
    page.json += "null";
  }
  page.json.push_back('}');
  return page;
}

Result<int64_t> RecordStore::DataVersion(const std::string& firm_id) {
  int64_t version = 0;
  CRM_TRY(store_.ForEachRow("SELECT version FROM firm_data_versions WHERE firm_id = ?", {firm_id},
                            [&](const storage::RowView& row) -> Status {
                              version = row.Int(0);
                              return OkStatus();
                            }));
  return version;
}

Result<json> RecordStore::Update(const std::string& firm_id, const ResourceSpec& spec,
                                 const std::string& id, const json& patch,
                                 std::optional<int64_t> expected_version,
                                 const std::map<std::string, std::string>& scope) {
  std::string where = " WHERE id = ? AND firm_id = ?";
  storage::Params scope_params = {id, firm_id};
  for (auto& [k, v] : scope) {
    where += " AND " + k + " = ?";
    scope_params.push_back(v);
  }
  CRM_ASSIGN_OR_RETURN(auto existing, store_.QueryOne("SELECT * FROM " + spec.table + where, scope_params));
  if (!existing) return NotFoundFor(spec);
  CRM_ASSIGN_OR_RETURN(auto values, Validate(firm_id, spec, patch, false));
  if (!expected_version && patch.contains("version") && patch["version"].is_number_integer())
    expected_version = patch["version"].get<int64_t>();
  int64_t current = existing->Int("version");
  auto conflict = [&](int64_t now_version) {
    return Error(ErrorCode::kConflict,
                 "Ce " + spec.label_fr + " a été modifié entre-temps : rechargez-le avant de l'enregistrer. / "
                 "The record was changed by someone else; reload it.",
                 {{"current_version", now_version}});
  };
  if (expected_version && *expected_version != current) return conflict(current);
  std::string sets = "updated_at = ?, version = version + 1";
  storage::Params params = {NowIsoUtc()};
  for (auto& [k, v] : values) {
    sets += ", " + k + " = ?";
    params.push_back(v);
  }
  if (spec.has_search_text) {
    CRM_ASSIGN_OR_RETURN(std::string st, SearchText(spec, values, existing));
    sets += ", search_text = ?";
    params.push_back(st);
  }
  for (auto& p : scope_params) params.push_back(p);
  params.push_back(current);
  int64_t n = 0;
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(n, c.Exec("UPDATE " + spec.table + " SET " + sets + where + " AND version = ?", params));
    return n == 0 ? OkStatus() : BumpFirmDataVersionIn(c, firm_id);
  }));
  if (n == 0) {
    CRM_ASSIGN_OR_RETURN(auto now_row, store_.QueryOne("SELECT version FROM " + spec.table + where, scope_params));
    if (!now_row) return NotFoundFor(spec);
    return conflict(now_row->Int("version"));
  }
  return Get(firm_id, spec, id);
}

Status RecordStore::Delete(const std::string& firm_id, const ResourceSpec& spec, const std::string& id,
                           std::optional<int64_t> expected_version,
                           const std::map<std::string, std::string>& scope) {
  std::string where = " WHERE id = ? AND firm_id = ?";
  storage::Params params = {id, firm_id};
  for (auto& [k, v] : scope) {
    where += " AND " + k + " = ?";
    params.push_back(v);
  }
  CRM_ASSIGN_OR_RETURN(auto existing, store_.QueryOne("SELECT version FROM " + spec.table + where, params));
  if (!existing) return NotFoundFor(spec);
  if (expected_version && *expected_version != existing->Int("version"))
    return Error(ErrorCode::kConflict, "Ce " + spec.label_fr + " a été modifié entre-temps. / The record was changed by someone else.",
                 {{"current_version", existing->Int("version")}});
  if (expected_version) {
    where += " AND version = ?";
    params.push_back(*expected_version);
  }
  int64_t n = 0;
  CRM_TRY(store_.Transaction([&](storage::Connection& c) -> Status {
    // What the deletion cascades to, done here: the voiceprints of a deleted contact (or of a
    // deleted client's contacts) go with it, and their automatic names with them.
    if (spec.table == "contacts")
      CRM_TRY(ForgetVoiceprintsIn(c, firm_id, "v.contact_id = ?", {id}));
    else if (spec.table == "clients")
      CRM_TRY(ForgetVoiceprintsIn(
          c, firm_id, "v.contact_id IN (SELECT id FROM contacts WHERE firm_id = ? AND client_id = ?)",
          {firm_id, id}));
    CRM_ASSIGN_OR_RETURN(n, c.Exec("DELETE FROM " + spec.table + where, params));
    return n == 0 ? OkStatus() : BumpFirmDataVersionIn(c, firm_id);
  }));
  if (n == 0) return Error(ErrorCode::kConflict, "Ce " + spec.label_fr + " a été modifié entre-temps.");
  return OkStatus();
}

Status BumpFirmDataVersionIn(storage::Connection& c, const std::string& firm_id) {
  CRM_TRY(c.Exec(c.dialect().UpsertAdd("firm_data_versions", "firm_id", "version"),
                 {firm_id, int64_t{1}}));
  return OkStatus();
}

Result<ListQuery> ParseListQuery(const std::multimap<std::string, std::string>& query, const ResourceSpec& spec) {
  ListQuery q;
  json problems = json::object();
  for (auto& [k, v] : query) {
    if (k == "limit") {
      if (auto n = ParseInt(v, 1, 200)) q.limit = *n;
      else problems["limit"] = "must_be_1_to_200";
    } else if (k == "cursor") {
      q.cursor = v;
    } else if (k == "q") {
      if (v.size() > 200) problems["q"] = "too_long";
      q.q = v;
    } else if (k == "sort") {
      std::string col = !v.empty() && v[0] == '-' ? v.substr(1) : v;
      const FieldSpec* f = spec.Field(col);
      if (col == "id" || col == "created_at" || col == "updated_at" || (f && f->sortable)) q.sort = v;
      else problems["sort"] = "not_sortable";
    } else if (const FieldSpec* f = spec.Field(k); f && f->filterable) {
      q.filters[k] = v;
    } else {
      problems[k] = "unknown_parameter";
    }
  }
  if (!problems.empty()) return InvalidArgument("Paramètres de liste invalides. / Invalid list parameters.", problems);
  return q;
}

}  // namespace crm::domain
