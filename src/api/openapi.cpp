// The OpenAPI 3.1 document, built from the routes themselves so it cannot drift from them: each
// route contributes its summary, tag, path parameters, security and error responses; resource
// routes get their request and response schemas from the RecordStore's field specs.
#include "api/app.h"
#include "domain/crm.h"

namespace crm::api {

using nlohmann::json;

namespace {

json FieldSchema(const domain::FieldSpec& f) {
  using F = domain::FieldType;
  json s;
  switch (f.type) {
    case F::kInt: s = {{"type", json::array({"integer", "null"})}}; break;
    case F::kBool: s = {{"type", "boolean"}}; break;
    case F::kStringList: s = {{"type", "array"}, {"items", {{"type", "string"}, {"maxLength", 50}}}}; break;
    case F::kJsonArray: s = {{"type", "array"}, {"items", {{"type", "object"}}}}; break;
    case F::kDateTime: s = {{"type", json::array({"string", "null"})}, {"format", "date-time"}}; break;
    case F::kDate: s = {{"type", json::array({"string", "null"})}, {"format", "date"}}; break;
    case F::kEmail: s = {{"type", json::array({"string", "null"})}, {"format", "email"}}; break;
    case F::kEnum: s = {{"type", json::array({"string", "null"})}, {"enum", f.enum_values}}; break;
    default: s = {{"type", json::array({"string", "null"})}, {"maxLength", f.max_len}};
  }
  if (!f.description.empty()) s["description"] = f.description;
  if (f.read_only) s["readOnly"] = true;
  return s;
}

json ResourceSchema(const domain::ResourceSpec& spec, bool input) {
  json props = json::object();
  json required = json::array();
  if (!input) {
    props["id"] = {{"type", "string"}, {"readOnly", true}};
    props["created_at"] = {{"type", "string"}, {"format", "date-time"}};
    props["updated_at"] = {{"type", "string"}, {"format", "date-time"}};
  }
  props["version"] = {{"type", "integer"}, {"description", "Optimistic concurrency: send it back, or use If-Match"}};
  for (auto& f : spec.fields) {
    if (input && f.read_only) continue;
    props[f.name] = FieldSchema(f);
    if (input && f.required) required.push_back(f.name);
  }
  json s = {{"type", "object"}, {"properties", props}, {"additionalProperties", false}};
  if (!required.empty()) s["required"] = required;
  return s;
}

const domain::ResourceSpec* SpecFor(const std::string& table) {
  for (auto* s : {&domain::ClientSpec(), &domain::ContactSpec(), &domain::MeetingSpec(), &domain::TaskSpec()})
    if (s->table == table) return s;
  return nullptr;
}

std::string OperationId(const http::Route& r) {
  std::string id = r.method;
  for (char c : r.pattern) id.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return id;
}

}  // namespace

json BuildOpenApi(const http::Router& router) {
  json paths = json::object();
  json schemas = {
      {"Error", {{"type", "object"}, {"required", {"error"}},
                 {"properties", {{"error", {{"type", "object"}, {"required", {"code", "message"}},
                                             {"properties", {{"code", {{"type", "string"}}},
                                                             {"message", {{"type", "string"}}},
                                                             {"details", {{"type", "object"}}}}}}}}}}}};
  for (auto* s : {&domain::ClientSpec(), &domain::ContactSpec(), &domain::MeetingSpec(), &domain::TaskSpec()}) {
    schemas[s->table] = ResourceSchema(*s, false);
    schemas[s->table + "_input"] = ResourceSchema(*s, true);
  }
  auto error_ref = json{{"description", "Erreur"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
  for (const auto& r : router.routes()) {
    json op = {{"summary", r.options.summary}, {"operationId", OperationId(r)}};
    if (!r.options.tag.empty()) op["tags"] = json::array({r.options.tag});
    json params = json::array();
    for (auto& seg : r.segments)
      if (seg.size() > 2 && seg.front() == '{')
        params.push_back({{"name", seg.substr(1, seg.size() - 2)}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    json responses = json::object();
    const auto& doc = r.options.doc;
    const domain::ResourceSpec* spec = doc.contains("x-resource") ? SpecFor(doc["x-resource"]) : nullptr;
    // Query parameters: "x-list" true (a CRM resource: limit, cursor, q, sort) or the names a
    // list takes; "x-query" the names another route takes.
    json query = json::array();
    if (doc.contains("x-list"))
      query = doc["x-list"].is_array() ? doc["x-list"] : json{"limit", "cursor", "q", "sort"};
    if (doc.contains("x-query")) query.insert(query.end(), doc["x-query"].begin(), doc["x-query"].end());
    for (const auto& q : query) {
      const std::string name = q.get<std::string>();
      const char* type = name == "limit" ? "integer" : name == "min_confidence" ? "number" : "string";
      params.push_back({{"name", name}, {"in", "query"}, {"required", false}, {"schema", {{"type", type}}}});
    }
    if (doc.contains("x-list")) {
      json item = spec ? json{{"$ref", "#/components/schemas/" + spec->table}} : json{{"type", "object"}};
      responses["200"] = {{"description", "Une page"}, {"content", {{"application/json", {{"schema", {
          {"type", "object"}, {"properties", {{"data", {{"type", "array"}, {"items", item}}},
                                              {"next_cursor", {{"type", json::array({"string", "null"})}}}}}}}}}}}};
    } else if (spec && r.method != "DELETE") {
      responses[r.method == "POST" ? "201" : "200"] = {{"description", "L'objet"}, {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/" + spec->table}}}}}}}};
    } else if (r.method == "DELETE") {
      responses["204"] = {{"description", "Supprimé"}};
    } else {
      responses[r.method == "POST" ? "201" : "200"] = {{"description", "Succès"}};
    }
    if (spec && (doc.value("x-create", false) || doc.value("x-update", false)))
      op["requestBody"] =
          JsonBodyDoc({{"$ref", "#/components/schemas/" + spec->table + "_input"}})["requestBody"];
    if (doc.value("x-update", false))
      params.push_back({{"name", "If-Match"}, {"in", "header"}, {"required", false}, {"schema", {{"type", "string"}}}});
    for (auto& [k, v] : doc.items())
      if (k.rfind("x-", 0) != 0) op[k] = v;
    responses["default"] = error_ref;
    op["responses"] = responses;
    if (!params.empty()) op["parameters"] = params;
    if (r.options.auth == http::AuthMode::kNone) op["security"] = json::array();
    else if (r.options.min_role != "member") op["x-min-role"] = r.options.min_role;
    if (r.options.platform_admin_too) op["x-platform-admin"] = true;
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    paths[r.pattern][method] = op;
  }
  return {
      {"openapi", "3.1.0"},
      {"info", {{"title", "crm-ai"}, {"version", "0.1.0"},
                {"description", "API du CRM crm-ai pour cabinets : clients, rendez-vous, enregistrements, transcriptions."}}},
      {"servers", json::array({{{"url", "/"}}})},
      {"paths", paths},
      {"components", {{"schemas", schemas},
                      {"securitySchemes", {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", SessionCookieName()}}},
                                           {"bearer", {{"type", "http"}, {"scheme", "bearer"}}},
                                           {"apiKey", {{"type", "apiKey"}, {"in", "header"}, {"name", "X-API-Key"}}}}}}},
      {"security", json::array({{{"session", json::array()}}, {{"bearer", json::array()}}, {{"apiKey", json::array()}}})},
  };
}

void RegisterOpenApiRoute(http::Router& r, App& app) {
  // The document describes itself too: register first, then build from the complete router.
  auto doc = std::make_shared<std::string>();
  r.Add("GET", "/api/openapi.json", [doc](http::Request&) {
    return http::Response::Text(200, *doc, "application/json");
  }, {.auth = http::AuthMode::kNone, .rate_limited = false, .summary = "Ce document OpenAPI 3.1", .tag = "meta"});
  *doc = BuildOpenApi(r).dump();
}

}  // namespace crm::api
