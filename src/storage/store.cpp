#include "storage/store.h"

namespace crm::storage {

Value Opt(const std::optional<std::string>& v) { return v ? Value(*v) : Value(Null{}); }
Value Opt(const std::optional<int64_t>& v) { return v ? Value(*v) : Value(Null{}); }

UnknownColumn::UnknownColumn(std::string_view column)
    : std::logic_error("the query has no column '" + std::string(column) + "'") {}

const Value& Row::at(std::string_view column) const {
  for (size_t i = 0; i < columns_->size(); ++i)
    if ((*columns_)[i] == column) return values_[i];
  throw UnknownColumn(column);
}

bool Row::Has(std::string_view column) const {
  for (const auto& c : *columns_)
    if (c == column) return true;
  return false;
}

bool Row::IsNull(std::string_view column) const {
  return std::holds_alternative<Null>(at(column));
}

std::string Row::Text(std::string_view column) const {
  const Value& v = at(column);
  if (auto* s = std::get_if<std::string>(&v)) return *s;
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) return std::to_string(*d);
  return {};
}

std::optional<std::string> Row::OptText(std::string_view column) const {
  if (IsNull(column)) return std::nullopt;
  return Text(column);
}

int64_t Row::Int(std::string_view column) const {
  const Value& v = at(column);
  if (auto* i = std::get_if<int64_t>(&v)) return *i;
  if (auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (auto* s = std::get_if<std::string>(&v)) {
    try { return std::stoll(*s); } catch (...) { return 0; }
  }
  return 0;
}

std::optional<int64_t> Row::OptInt(std::string_view column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

double Row::Real(std::string_view column) const {
  const Value& v = at(column);
  if (auto* d = std::get_if<double>(&v)) return *d;
  if (auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto* s = std::get_if<std::string>(&v)) {
    try { return std::stod(*s); } catch (...) { return 0; }
  }
  return 0;
}

nlohmann::json Row::ToJson() const {
  nlohmann::json j = nlohmann::json::object();
  for (size_t i = 0; i < columns_->size(); ++i) {
    const Value& v = values_[i];
    if (auto* s = std::get_if<std::string>(&v)) j[(*columns_)[i]] = *s;
    else if (auto* n = std::get_if<int64_t>(&v)) j[(*columns_)[i]] = *n;
    else if (auto* d = std::get_if<double>(&v)) j[(*columns_)[i]] = *d;
    else j[(*columns_)[i]] = nullptr;
  }
  return j;
}

namespace {

class SqliteDialectImpl final : public Dialect {
 public:
  std::string_view name() const override { return "sqlite"; }
  std::string ContainsClause(std::string_view column) const override {
    return std::string(column) + " LIKE ? ESCAPE '\\'";
  }
  std::string ContainsPattern(std::string_view text) const override {
    std::string out = "%";
    for (char ch : text) {
      if (ch == '%' || ch == '_' || ch == '\\') out.push_back('\\');
      out.push_back(ch);
    }
    out.push_back('%');
    return out;
  }
  std::string UpsertAdd(std::string_view table, std::string_view key_column,
                        std::string_view counter_column) const override {
    std::string t(table), k(key_column), n(counter_column);
    return "INSERT INTO " + t + " (" + k + ", " + n + ") VALUES (?, ?) ON CONFLICT (" + k +
           ") DO UPDATE SET " + n + " = " + n + " + excluded." + n;
  }
  std::string_view ClaimLock() const override { return ""; }
};

}  // namespace

const Dialect& SqliteDialect() {
  static const SqliteDialectImpl kDialect;
  return kDialect;
}

Result<std::optional<Row>> Connection::QueryOne(std::string_view sql, const Params& params) {
  CRM_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

Result<std::string> Store::Snapshot(const std::string&) {
  return Error(ErrorCode::kUnavailable, "this build cannot back up a " + std::string(dialect().name()) +
                                            " database (" + Describe() + ")");
}

Result<std::optional<Row>> Store::QueryOne(std::string_view sql, const Params& params) {
  CRM_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  if (rows.empty()) return std::optional<Row>();
  return std::optional<Row>(std::move(rows.front()));
}

namespace {
// A RowView over a materialised Row (the default ForEachRow).
class MaterialisedRowView final : public RowView {
 public:
  explicit MaterialisedRowView(const Row& row) : row_(row) {}
  size_t size() const override { return row_.size(); }
  bool IsNull(size_t i) const override { return std::holds_alternative<Null>(row_.at(i)); }
  std::string_view Text(size_t i) const override {
    if (auto* s = std::get_if<std::string>(&row_.at(i))) return *s;
    scratch_ = std::holds_alternative<int64_t>(row_.at(i)) ? std::to_string(std::get<int64_t>(row_.at(i)))
               : std::holds_alternative<double>(row_.at(i)) ? std::to_string(std::get<double>(row_.at(i)))
                                                             : std::string();
    return scratch_;
  }
  int64_t Int(size_t i) const override {
    if (auto* n = std::get_if<int64_t>(&row_.at(i))) return *n;
    if (auto* d = std::get_if<double>(&row_.at(i))) return static_cast<int64_t>(*d);
    return 0;
  }

 private:
  const Row& row_;
  mutable std::string scratch_;
};
}  // namespace

Status Connection::ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn) {
  CRM_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  for (const auto& r : rows) CRM_TRY(fn(MaterialisedRowView(r)));
  return OkStatus();
}

Status Store::ForEachRow(std::string_view sql, const Params& params, const RowCallback& fn) {
  CRM_ASSIGN_OR_RETURN(Rows rows, Query(sql, params));
  for (const auto& r : rows) CRM_TRY(fn(MaterialisedRowView(r)));
  return OkStatus();
}

}  // namespace crm::storage
