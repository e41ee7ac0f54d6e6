#include "http/message.h"

#include <strings.h>

#include "common/text.h"
#include "http/error_map.h"

namespace crm::http {

bool CaseInsensitiveLess::operator()(const std::string& a, const std::string& b) const {
  return strcasecmp(a.c_str(), b.c_str()) < 0;
}

std::string Request::Header(std::string_view name) const {
  auto it = headers.find(std::string(name));
  return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::Query(std::string_view name) const {
  auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string Request::Param(std::string_view name) const {
  auto it = params.find(std::string(name));
  return it == params.end() ? std::string() : it->second;
}

Result<nlohmann::json> Request::JsonBody() const {
  if (!IsValidUtf8(body))
    return Error(ErrorCode::kInvalidJson, "Le corps de la requête n'est pas de l'UTF-8 valide. / The request body is not valid UTF-8.");
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded())
    return Error(ErrorCode::kInvalidJson, "Le corps de la requête n'est pas du JSON valide. / The request body is not valid JSON.");
  if (!j.is_object())
    return Error(ErrorCode::kInvalidJson, "Le corps doit être un objet JSON. / The body must be a JSON object.");
  return j;
}

Response Response::Json(int status, const nlohmann::json& j) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::Text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

Response Response::NoContent() {
  Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

Response Response::FromError(const Error& e) {
  nlohmann::json err = {{"code", e.CodeName()}, {"message", e.message}};
  err["details"] = e.details.is_null() ? nlohmann::json::object() : e.details;
  Response r = Json(StatusFor(e.code), {{"error", err}});
  return r;
}

}  // namespace crm::http
