// Firms: the platform admin creates and lists them; a firm's admins read and edit their own.
#include "api/app.h"
#include "common/ids.h"
#include "common/text.h"
#include "domain/audit.h"
#include "domain/firms.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

void RegisterAdminRoutes(http::Router& r, App& app) {
  r.Add("GET", "/api/admin/firms", [&app](Request& req) {
    auto firms = domain::ListFirms(*app.store);
    if (!firms.ok()) return Response::FromError(firms.error());
    return Page(*firms, std::nullopt);
  }, {.min_role = "platform_admin", .summary = "Tous les cabinets (administrateur de plateforme)", .tag = "admin"});

  r.Add("POST", "/api/admin/firms", [&app](Request& req) {
    auto body = req.JsonBody();
    if (!body.ok()) return Response::FromError(body.error());
    auto firm = domain::CreateFirm(*app.store, *body);
    if (!firm.ok()) return Response::FromError(firm.error());
    domain::Audit(*app.store, req.principal, "firm.created", "firm", (*firm)["id"].get<std::string>());
    return Created(*firm);
  }, {.min_role = "platform_admin", .max_body = 64 * 1024, .summary = "Créer un cabinet", .tag = "admin"});

  r.Add("GET", "/api/admin/firms/{id}", [&app](Request& req) {
    auto firm = domain::GetFirm(*app.store, req.Param("id"));
    return firm.ok() ? Ok(*firm) : Response::FromError(firm.error());
  }, {.min_role = "platform_admin", .summary = "Lire un cabinet", .tag = "admin"});

  r.Add("GET", "/api/firm", [&app](Request& req) {
    auto firm = domain::GetFirm(*app.store, req.principal.firm_id);
    return firm.ok() ? Ok(*firm) : Response::FromError(firm.error());
  }, {.summary = "Le cabinet de l'utilisateur", .tag = "firm"});

  r.Add("PATCH", "/api/firm", [&app](Request& req) {
    auto body = req.JsonBody();
    if (!body.ok()) return Response::FromError(body.error());
    auto firm = domain::UpdateFirm(*app.store, req.principal.firm_id, *body, IfMatchVersion(req));
    if (!firm.ok()) return Response::FromError(firm.error());
    domain::Audit(*app.store, req.principal, "firm.updated", "firm", req.principal.firm_id);
    return Ok(*firm);
  }, {.min_role = "admin", .max_body = 64 * 1024, .summary = "Modifier le cabinet (nom, SIRET, adresse, réglages)", .tag = "firm"});
}

}  // namespace crm::api
