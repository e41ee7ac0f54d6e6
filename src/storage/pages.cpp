#include "storage/pages.h"

#include <algorithm>

namespace crm::storage {

Result<Page> FirmPage(Store& store, const PageQuery& q, const RowToJson& to_json) {
  std::string sql = std::string("SELECT * FROM ") + q.table + " WHERE firm_id = ?";
  Params p = {q.firm_id};
  if (!q.cursor.empty()) {
    sql += " AND id < ?";
    p.push_back(q.cursor);
  }
  for (const PageFilter& f : q.filters) {
    if (!f.value) continue;
    sql += std::string(" AND ") + f.column + " = ?";
    p.push_back(*f.value);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  const int limit = std::max(1, q.limit);
  p.push_back(int64_t{limit} + 1);
  CRM_ASSIGN_OR_RETURN(Rows rows, store.Query(sql, p));
  Page page;
  for (size_t i = 0; i < rows.size() && static_cast<int>(i) < limit; ++i)
    page.data.push_back(to_json(rows[i]));
  if (static_cast<int>(rows.size()) > limit) page.next_cursor = rows[limit - 1].Text("id");
  return page;
}

Result<std::optional<Row>> FirmRow(Store& store, const char* table, const std::string& firm_id,
                                   const std::string& id) {
  return store.QueryOne(std::string("SELECT * FROM ") + table + " WHERE firm_id = ? AND id = ?",
                        {firm_id, id});
}

}  // namespace crm::storage
