// GET /api/search?q=: one search box over the firm's transcripts, documents (by page) and its
// clients' and meetings' notes (accent- and case-insensitive). Each result says where to go: the client, the meeting,
// the recording and the second to jump to, with a highlighted snippet.
#include "api/app.h"
#include "domain/transcript_search.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

json HitJson(const domain::SearchHit& h) {
  json j = {{"type", h.type},
            {"client", {{"id", h.client_id}, {"name", h.client_name}}},
            {"meeting", nullptr},
            {"recording_id", h.recording_id ? json(*h.recording_id) : json(nullptr)},
            {"segment_id", h.segment_id ? json(*h.segment_id) : json(nullptr)},
            {"start", h.start ? json(*h.start) : json(nullptr)},
            {"snippet", h.snippet}};
  if (h.document_id)
    j["document"] = {{"id", *h.document_id},
                     {"name", h.document_name.value_or("")},
                     {"page", h.page ? json(*h.page) : json(nullptr)},
                     {"download_url", "/api/documents/" + *h.document_id + "/download"}};
  if (h.meeting_id) j["meeting"] = {{"id", *h.meeting_id}, {"title", h.meeting_title.value_or("")}};
  return j;
}

// A non-negative integer of at most 9 digits, or nullopt.
std::optional<int> SmallInt(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

Response Search(App& app, Request& req) {
  domain::SearchOptions options;
  json problems = json::object();
  if (auto limit = req.Query("limit")) {
    auto v = SmallInt(*limit);
    if (!v || *v < 1 || *v > 200)
      problems["limit"] = "must_be_1_to_200";
    else
      options.limit = *v;
  }
  if (auto cursor = req.Query("cursor"); cursor && !cursor->empty()) {
    // The cursor is the position of the next result in the ranked list.
    auto v = SmallInt(*cursor);
    if (!v)
      problems["cursor"] = "invalid";
    else
      options.offset = *v;
  }
  std::string q = req.Query("q").value_or("");
  if (!problems.empty())
    return Response::FromError(InvalidArgument(
        "Paramètres de recherche invalides. / Invalid search parameters.", problems));
  auto page = domain::Search(*app.store, req.principal.firm_id, q, options);
  if (!page.ok()) return Response::FromError(page.error());
  std::vector<json> data;
  for (const auto& h : page->hits) data.push_back(HitJson(h));
  std::optional<std::string> next;
  if (page->more) next = std::to_string(options.offset + static_cast<int>(page->hits.size()));
  return Page(data, next);
}

}  // namespace

void RegisterSearchRoutes(http::Router& r, App& app) {
  r.Add(
      "GET", "/api/search", [&app](Request& req) { return Search(app, req); },
      {.summary = "Rechercher dans les transcriptions et les notes des clients et rendez-vous "
                  "(?q=, sans accents ni casse ; extrait surligné, seconde où reprendre l'écoute)",
       .tag = "search",
       .doc = {{"parameters",
                json::array({{{"name", "q"},
                              {"in", "query"},
                              {"required", true},
                              {"schema", {{"type", "string"}}}},
                             {{"name", "limit"},
                              {"in", "query"},
                              {"required", false},
                              {"schema", {{"type", "integer"}, {"minimum", 1}, {"maximum", 200}}}},
                             {{"name", "cursor"},
                              {"in", "query"},
                              {"required", false},
                              {"schema", {{"type", "string"}}}}})}}});
}

}  // namespace crm::api
