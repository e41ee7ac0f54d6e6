// Clients, contacts, meetings, tasks and a client's timeline: the CRM core's routes. All four
// resources share the RecordStore engine and one route shape (clients are the model).
//
// List pages are cached per caller and query, validated on every hit against the firm's data
// version (one primary-key read), so a page is never served after any write to the firm's
// records, from this server or any other process on the database.
#include "api/app.h"
#include "common/text.h"
#include "domain/audit.h"
#include "domain/crm.h"
#include "http/response_cache.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

struct ResourceRoutes {
  std::string collection;   // "/api/clients" or "/api/clients/{id}/contacts"
  std::string item_param;   // "id" or "contact_id"
  const domain::ResourceSpec* spec;
  std::string tag;
  std::string delete_role = "member";
  // Path parameter that scopes the records (contacts: {"client_id", "id"}); empty for top level.
  std::string scope_field, scope_param;
};

Response Respond(const Result<json>& r, bool created = false) {
  if (!r.ok()) return Response::FromError(r.error());
  return created ? Created(*r) : Ok(*r);
}

// Everything a list page depends on besides the firm's data version: who asks (firm, user, key,
// role: pages will later depend on the records a user may see), which resource and parent, and
// the normalised query.
std::string ListCacheKey(const Principal& p, const domain::ResourceSpec& spec,
                         const std::map<std::string, std::string>& scope, const domain::ListQuery& q) {
  std::string key;
  key.reserve(160);
  auto add = [&key](std::string_view part) {
    key += part;
    key.push_back('\x1f');  // a byte no id, name or query parameter can hold unescaped
  };
  add(p.firm_id);
  add(p.user_id);
  add(p.api_key_id);
  add(p.role);
  add(spec.table);
  for (auto& [k, v] : scope) {
    add(k);
    add(v);
  }
  add(std::to_string(q.limit));
  add(q.cursor);
  add(q.q);
  add(q.sort);
  for (auto& [k, v] : q.filters) {
    add(k);
    add(v);
  }
  return key;
}

// 200 with the page and its ETag, or 304 when the client already holds this very page.
Response ListResponse(const Request& req, const http::CachedBody& page) {
  Response res;
  res.content_type = "application/json";
  res.Header("ETag", page.etag);
  if (http::IfNoneMatchHits(req.Header("If-None-Match"), page.etag)) {
    res.status = 304;
    return res;
  }
  res.shared_body = page.body;
  return res;
}

void RegisterResource(http::Router& router, App& app, const ResourceRoutes& rr,
                      const std::shared_ptr<http::ResponseCache>& cache) {
  const auto* spec = rr.spec;
  std::string item = rr.collection + "/{" + rr.item_param + "}";
  auto scope_of = [rr](const Request& req) {
    std::map<std::string, std::string> scope;
    if (!rr.scope_field.empty()) scope[rr.scope_field] = req.Param(rr.scope_param);
    return scope;
  };
  // The parent (e.g. the client of a contact) must be the caller's, before anything else.
  auto parent_ok = [&app, rr](const Request& req) -> Status {
    if (rr.scope_field.empty()) return OkStatus();
    CRM_ASSIGN_OR_RETURN(bool ok, app.records->ExistsInFirm(req.principal.firm_id, "clients", req.Param(rr.scope_param)));
    if (!ok) return NotFound("Ce client est introuvable. / Client not found.");
    return OkStatus();
  };
  json item_doc = {{"parameters", json::array()}};

  router.Add("GET", rr.collection, [&app, spec, scope_of, parent_ok, cache](Request& req) {
    if (auto st = parent_ok(req); !st.ok()) return Response::FromError(st.error());
    auto q = domain::ParseListQuery(req.query, *spec);
    if (!q.ok()) return Response::FromError(q.error());
    auto scope = scope_of(req);
    // The version is read before the page: see http/response_cache.h.
    auto version = app.records->DataVersion(req.principal.firm_id);
    std::string key = version.ok() ? ListCacheKey(req.principal, *spec, scope, *q) : std::string();
    if (version.ok())
      if (auto hit = cache->Get(key, *version)) return ListResponse(req, *hit);
    auto page = app.records->List(req.principal.firm_id, *spec, *q, scope);
    if (!page.ok()) return Response::FromError(page.error());
    if (!version.ok()) return Response::Text(200, std::move(page->json), "application/json");
    return ListResponse(req, cache->Put(key, *version, std::move(page->json)));
  }, {.light = true, .summary = "Lister les " + spec->table + " (pagination par curseur, ?q= recherche sans accents)", .tag = rr.tag,
      .doc = {{"x-list", true}, {"x-resource", spec->table}}});

  router.Add("POST", rr.collection, [&app, spec, rr, parent_ok](Request& req) {
    if (auto st = parent_ok(req); !st.ok()) return Response::FromError(st.error());
    auto body = req.JsonBody();
    if (!body.ok()) return Response::FromError(body.error());
    std::map<std::string, std::string> fixed;
    if (!rr.scope_field.empty()) fixed[rr.scope_field] = req.Param(rr.scope_param);
    if (spec->table == "clients" && !body->contains("owner_user_id") && !req.principal.user_id.empty())
      fixed["owner_user_id"] = req.principal.user_id;
    return Respond(app.records->Create(req.principal.firm_id, *spec, *body, fixed), true);
  }, {.max_body = 256 * 1024, .summary = "Créer un " + spec->label_fr, .tag = rr.tag,
      .doc = {{"x-resource", spec->table}, {"x-create", true}}});

  router.Add("GET", item, [&app, spec, rr, scope_of, parent_ok](Request& req) {
    if (auto st = parent_ok(req); !st.ok()) return Response::FromError(st.error());
    return Respond(app.records->Get(req.principal.firm_id, *spec, req.Param(rr.item_param), scope_of(req)));
  }, {.summary = "Lire un " + spec->label_fr, .tag = rr.tag, .doc = {{"x-resource", spec->table}}});

  router.Add("PATCH", item, [&app, spec, rr, scope_of, parent_ok](Request& req) {
    if (auto st = parent_ok(req); !st.ok()) return Response::FromError(st.error());
    std::string id = req.Param(rr.item_param);
    // A foreign or missing id is 404 before the body is even looked at.
    auto existing = app.records->Get(req.principal.firm_id, *spec, id, scope_of(req));
    if (!existing.ok()) return Response::FromError(existing.error());
    auto body = req.JsonBody();
    if (!body.ok()) return Response::FromError(body.error());
    return Respond(app.records->Update(req.principal.firm_id, *spec, id, *body, IfMatchVersion(req), scope_of(req)));
  }, {.max_body = 256 * 1024, .summary = "Modifier un " + spec->label_fr + " (If-Match ou version : 409 si périmé)",
      .tag = rr.tag, .doc = {{"x-resource", spec->table}, {"x-update", true}}});

  router.Add("DELETE", item, [&app, spec, rr, scope_of, parent_ok](Request& req) {
    if (auto st = parent_ok(req); !st.ok()) return Response::FromError(st.error());
    std::string id = req.Param(rr.item_param);
    // The files of what the client's deletion cascades to (documents, mail attachments) are
    // listed first and removed once the rows are gone.
    std::vector<std::function<void()>> after;
    if (spec->table == "clients")
      for (auto& hook : app.before_client_delete) after.push_back(hook(req.principal.firm_id, id));
    auto st = app.records->Delete(req.principal.firm_id, *spec, id, IfMatchVersion(req), scope_of(req));
    if (!st.ok()) return Response::FromError(st.error());
    for (auto& done : after)
      if (done) done();
    domain::Audit(*app.store, req.principal, spec->table + ".delete", spec->table, id);
    return Response::NoContent();
  }, {.min_role = rr.delete_role, .summary = "Supprimer un " + spec->label_fr, .tag = rr.tag});
}

Response Timeline(App& app, Request& req) {
  auto items = domain::ClientTimeline(*app.store, req.principal.firm_id, req.Param("id"));
  if (!items.ok()) return Response::FromError(items.error());
  return Response::Json(200, {{"data", *items}});
}

}  // namespace

void RegisterCrmRoutes(http::Router& r, App& app) {
  // List pages of the four resources, shared by the routes and kept as long as the router.
  http::ResponseCacheOptions cache_options;
  cache_options.max_bytes = static_cast<size_t>(app.config.cache_memory_mb) << 20;
  auto cache = std::make_shared<http::ResponseCache>(cache_options);
  app.metrics.push_back([cache] {
    return "# HELP crm_list_cache_hits_total List pages served from the cache\n"
           "# TYPE crm_list_cache_hits_total counter\ncrm_list_cache_hits_total " +
           std::to_string(cache->hits()) +
           "\n# HELP crm_list_cache_misses_total List pages built from the database\n"
           "# TYPE crm_list_cache_misses_total counter\ncrm_list_cache_misses_total " +
           std::to_string(cache->misses()) +
           "\n# HELP crm_list_cache_bytes Memory held by cached list pages (CACHE_MEMORY_MB)\n"
           "# TYPE crm_list_cache_bytes gauge\ncrm_list_cache_bytes " +
           std::to_string(cache->bytes()) + "\n# TYPE crm_list_cache_max_bytes gauge\n" +
           "crm_list_cache_max_bytes " + std::to_string(cache->max_bytes()) + "\n";
  });
  RegisterResource(r, app, {"/api/clients", "id", &domain::ClientSpec(), "clients", "admin"}, cache);
  RegisterResource(r, app, {"/api/clients/{id}/contacts", "contact_id", &domain::ContactSpec(), "clients", "member",
                            "client_id", "id"}, cache);
  RegisterResource(r, app, {"/api/meetings", "id", &domain::MeetingSpec(), "meetings"}, cache);
  RegisterResource(r, app, {"/api/tasks", "id", &domain::TaskSpec(), "tasks"}, cache);
  r.Add("GET", "/api/clients/{id}/timeline", [&app](Request& req) { return Timeline(app, req); },
        {.summary = "Chronologie d'un client : rendez-vous, enregistrements, documents, notes et tâches", .tag = "clients"});
}

}  // namespace crm::api
