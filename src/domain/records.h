// Firm-scoped records described by data: clients, contacts, meetings, tasks share one engine for
// validation, creation, optimistic-concurrency updates, deletion, search and cursor pagination.
//
// Every statement carries `firm_id = ?` bound from the caller's principal, so a record of another
// firm is indistinguishable from a missing one (kNotFound). Check order on update/delete: the
// record exists in the firm (404) → the body is valid (422) → the version is current (409).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

enum class FieldType {
  kString,      // one line, trimmed, max_len characters
  kText,        // multi-line, max_len characters
  kEmail,
  kPhone,
  kInt,
  kBool,
  kDateTime,    // ISO-8601, stored normalised to UTC "YYYY-MM-DDTHH:MM:SSZ"
  kDate,        // "YYYY-MM-DD"
  kEnum,
  kStringList,  // JSON array of short strings (tags)
  kJsonArray,   // JSON array of objects (participants)
  kRef,         // id of a record of `ref_table` in the same firm
};

struct FieldSpec {
  std::string name;
  FieldType type = FieldType::kString;
  bool required = false;          // on create
  size_t max_len = 200;
  std::vector<std::string> enum_values;
  std::string ref_table;          // kRef
  std::string default_value;      // SQL default applies when empty
  bool searchable = false;        // folded into search_text
  bool sortable = false;
  bool filterable = false;        // ?field=value on lists
  bool read_only = false;         // set by the server (e.g. client_id from the path)
  std::string description;        // for the OpenAPI document
};

struct ResourceSpec {
  std::string table;              // "clients"
  std::string label_fr;           // "client", for messages
  std::vector<FieldSpec> fields;
  bool has_search_text = true;    // the table has a search_text column
  const FieldSpec* Field(const std::string& name) const;
};

struct ListQuery {
  int limit = 50;                 // 1..200
  std::string cursor;
  std::string q;                  // accent- and case-insensitive search
  std::string sort;               // "name", "-created_at"; default "id"
  std::map<std::string, std::string> filters;  // equality on filterable fields
};

struct ListPage {
  // The whole page as the API answers it, {"data": [...], "next_cursor": ...}, written straight
  // from the statement's rows (list pages are the hot path).
  std::string json;
  size_t count = 0;
  std::optional<std::string> next_cursor;
};

class RecordStore {
 public:
  explicit RecordStore(storage::Store& store) : store_(store) {}

  // `fixed` holds server-set fields (e.g. client_id from the path, owner) that the body may not set.
  Result<nlohmann::json> Create(const std::string& firm_id, const ResourceSpec& spec,
                                const nlohmann::json& body,
                                const std::map<std::string, std::string>& fixed = {});
  Result<nlohmann::json> Get(const std::string& firm_id, const ResourceSpec& spec,
                             const std::string& id,
                             const std::map<std::string, std::string>& scope = {});
  Result<ListPage> List(const std::string& firm_id, const ResourceSpec& spec,
                        const ListQuery& query,
                        const std::map<std::string, std::string>& scope = {});
  // expected_version from If-Match or the body's "version"; nullopt = last write wins.
  Result<nlohmann::json> Update(const std::string& firm_id, const ResourceSpec& spec,
                                const std::string& id, const nlohmann::json& patch,
                                std::optional<int64_t> expected_version,
                                const std::map<std::string, std::string>& scope = {});
  Status Delete(const std::string& firm_id, const ResourceSpec& spec, const std::string& id,
                std::optional<int64_t> expected_version,
                const std::map<std::string, std::string>& scope = {});

  // The firm's data version: bumped by BumpFirmDataVersionIn() in the same transaction as every
  // write to its clients, contacts, meetings and tasks (cascaded deletions included, which no
  // trigger is relied on for), so every server sees the new version with the new data.
  // 0 before the first write. Read it BEFORE reading the data it stands for.
  Result<int64_t> DataVersion(const std::string& firm_id);

  // True when `id` is a record of `table` in the firm.
  Result<bool> ExistsInFirm(const std::string& firm_id, const std::string& table,
                            const std::string& id);

 private:
  Result<std::map<std::string, storage::Value>> Validate(const std::string& firm_id,
                                                         const ResourceSpec& spec,
                                                         const nlohmann::json& body, bool creating);
  nlohmann::json ToApi(const ResourceSpec& spec, const storage::Row& row) const;
  void AppendApiJson(std::string& out, const ResourceSpec& spec, const storage::RowView& row) const;
  std::string SelectColumns(const ResourceSpec& spec) const;
  Result<std::string> SearchText(const ResourceSpec& spec,
                                 const std::map<std::string, storage::Value>& values,
                                 const std::optional<storage::Row>& existing);
  storage::Store& store_;
};

// Adds one to the firm's data version inside the caller's write transaction. Every write to the
// firm's CRM records (and to data their list pages show) calls it.
Status BumpFirmDataVersionIn(storage::Connection& c, const std::string& firm_id);

// ListQuery from ?limit=&cursor=&q=&sort= and filters; 422 for bad values.
Result<ListQuery> ParseListQuery(const std::multimap<std::string, std::string>& query,
                                 const ResourceSpec& spec);

}  // namespace crm::domain
