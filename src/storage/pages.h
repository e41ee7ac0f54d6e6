// Firm-scoped reads of one table by id: one row, and pages of rows newest first with an id
// cursor, the shape every paged list of the API shares. Table and column names come from the
// caller's constants (a `const char*` literal, never from a request); every value is a bound
// parameter.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "storage/store.h"

namespace crm::storage {

// `column = value`, applied only when the value is present.
struct PageFilter {
  const char* column;
  std::optional<std::string> value;
};

struct PageQuery {
  const char* table;                // a constant of the caller
  std::string firm_id;              // the principal's firm: always filtered on
  std::vector<PageFilter> filters;  // AND-ed equality filters
  int limit = 50;                   // rows per page (the route checked 1..200)
  std::string cursor;               // the last id of the previous page; "" for the first
};

struct Page {
  std::vector<nlohmann::json> data;
  std::optional<std::string> next_cursor;  // set when more rows follow
};

using RowToJson = std::function<nlohmann::json(const Row&)>;

// SELECT * FROM table WHERE firm_id = ? [AND id < cursor] [AND column = ?]... ORDER BY id DESC
// LIMIT limit + 1: `limit` rows through `to_json`, and the next cursor when there were more.
Result<Page> FirmPage(Store& store, const PageQuery& query, const RowToJson& to_json);

// The firm's row `id` of `table`, or nullopt (a foreign id reads like a missing one).
Result<std::optional<Row>> FirmRow(Store& store, const char* table, const std::string& firm_id,
                                   const std::string& id);

}  // namespace crm::storage
