#include "documents/openai_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include "asr/remote/http_post.h"
#include "asr/remote/openai_http.h"
#include "common/log.h"
#include "common/text.h"

namespace crm::documents {

using nlohmann::json;
namespace remote = asr::remote;

namespace {

constexpr size_t kMaxItemsPerList = 50;
constexpr size_t kMaxTextBytes = 2000;
constexpr size_t kMaxShortBytes = 200;

// Retryable: the server answered, but not with what was asked.
Error NotAReport(const std::string& why) {
  return Error(ErrorCode::kUnavailable, why, {{"retryable", true}}, "summary_invalid_answer");
}

bool ValidIsoDate(const std::string& s) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (s.size() != 10 || std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return false;
  if (s[4] != '-' || s[7] != '-' || m < 1 || m > 12 || d < 1) return false;
  static const int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= (m == 2 ? (leap ? 29 : 28) : days[m - 1]);
}

json RefSchema() { return {{"type", "string"}, {"description", "Référence d'une ligne, ex. S12"}}; }

json ItemSchema(const json& properties) {
  json required = json::array();
  for (auto& [k, v] : properties.items()) required.push_back(k);
  return {{"type", "object"},
          {"properties", properties},
          {"required", required},
          {"additionalProperties", false}};
}

// The schema of the answer (OpenAI's strict structured outputs: every property required, no
// other property).
json ReportSchema() {
  json point = ItemSchema({{"text", {{"type", "string"}}}, {"segment", RefSchema()}});
  json action = ItemSchema({{"who", {{"type", "string"}}},
                            {"what", {{"type", "string"}}},
                            {"due_date", {{"type", {"string", "null"}}}},
                            {"due_text", {{"type", "string"}}},
                            {"segment", RefSchema()}});
  json excerpt = ItemSchema({{"segment", RefSchema()}});
  auto list = [](const json& item) { return json{{"type", "array"}, {"items", item}}; };
  return ItemSchema({{"summary", list(point)},
                     {"decisions", list(point)},
                     {"actions", list(action)},
                     {"excerpts", list(excerpt)}});
}

std::string Instructions(const ReportInput& in, bool merge) {
  const bool english = in.language == "en";
  std::string s =
      "Tu es l'assistant d'un cabinet (avocats, notaires, experts-comptables). Tu rédiges le "
      "compte rendu d'un rendez-vous avec son client. ";
  s += merge ? "Tu reçois les comptes rendus partiels des parties successives du même "
               "rendez-vous, une ligne par élément, précédée de sa référence entre crochets "
               "([S12]). Fusionne-les en un seul compte rendu sans doublon. "
             : "Tu reçois la transcription, une ligne par intervention, précédée de sa "
               "référence et de son heure entre crochets ([S12 03:25]) puis de l'intervenant. ";
  s += "Réponds uniquement par un objet JSON avec exactement : summary (les points essentiels, "
       "phrases courtes), decisions (ce qui a été décidé ou convenu), actions (who : le nom de la "
       "personne qui doit agir ou \"\" ; what : ce qu'il faut faire ; due_date : l'échéance au "
       "format AAAA-MM-JJ ou null ; due_text : l'échéance telle qu'elle a été dite ou \"\"), "
       "excerpts (les passages clés). Chaque élément cite dans segment la référence (S12) de la "
       "ligne d'où il vient ; n'invente ni référence, ni heure, ni fait. ";
  s += english ? "Write the texts in English." : "Rédige les textes en français.";
  return s;
}

std::string Header(const ReportInput& in) {
  std::string h = "Cabinet : " + in.firm_name + "\nClient : " + in.client_name;
  if (!in.meeting_title.empty()) h += "\nRendez-vous : " + in.meeting_title;
  if (!in.meeting_date.empty()) h += "\nDate : " + in.meeting_date;
  if (!in.participants.empty()) {
    h += "\nParticipants : ";
    for (size_t i = 0; i < in.participants.size(); ++i) h += (i ? ", " : "") + in.participants[i];
  }
  return h + "\n";
}

std::string Line(const ReportInput& in, size_t i) {
  const ReportSegment& s = in.segments[i];
  std::string text = s.text;
  for (char& c : text)
    if (c == '\n' || c == '\r') c = ' ';
  return "[" + SegmentRef(i) + " " + ClockTime(s.start) + "] " +
         (s.speaker.empty() ? std::string("?") : s.speaker) + " : " + Trim(text);
}

// A string member of `item`, or an error naming where.
Result<std::string> Str(const json& item, const char* key, const std::string& where, size_t max,
                        bool required) {
  auto it = item.find(key);
  if (it == item.end() || !it->is_string())
    return NotAReport(where + "." + key + " is not a string");
  std::string v = Trim(it->get<std::string>());
  if (required && v.empty()) return NotAReport(where + "." + key + " is empty");
  if (v.size() > max) return NotAReport(where + "." + key + " is too long");
  if (!IsValidUtf8(v)) return NotAReport(where + "." + key + " is not UTF-8");
  return v;
}

Result<std::vector<ModelItem>> Items(const json& doc, const char* list,
                                     const std::set<std::string>& refs,
                                     const std::vector<std::string>& keys) {
  const json& arr = doc[list];
  if (!arr.is_array()) return NotAReport(std::string(list) + " is not an array");
  if (arr.size() > kMaxItemsPerList) return NotAReport(std::string(list) + " has too many items");
  std::vector<ModelItem> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    const json& item = arr[i];
    if (!item.is_object()) return NotAReport(where + " is not an object");
    for (auto& [k, v] : item.items())
      if (std::find(keys.begin(), keys.end(), k) == keys.end())
        return NotAReport(where + " has an unexpected member " + k);
    ModelItem m;
    CRM_ASSIGN_OR_RETURN(m.ref, Str(item, "segment", where, 32, true));
    if (!refs.count(m.ref)) return NotAReport(where + ".segment cites an unknown line " + m.ref);
    for (const std::string& k : keys) {
      if (k == "text" || k == "what") {
        CRM_ASSIGN_OR_RETURN(m.text, Str(item, k.c_str(), where, kMaxTextBytes, true));
      } else if (k == "who") {
        CRM_ASSIGN_OR_RETURN(m.who, Str(item, "who", where, kMaxShortBytes, false));
      } else if (k == "due_text") {
        CRM_ASSIGN_OR_RETURN(m.due_text, Str(item, "due_text", where, kMaxShortBytes, false));
      } else if (k == "due_date") {
        auto it = item.find("due_date");
        if (it == item.end()) return NotAReport(where + ".due_date is missing");
        if (it->is_string()) {
          std::string d = Trim(it->get<std::string>());
          if (!d.empty() && !ValidIsoDate(d))
            return NotAReport(where + ".due_date is not a YYYY-MM-DD date");
          if (!d.empty()) m.due_date = d;
        } else if (!it->is_null()) {
          return NotAReport(where + ".due_date is neither a date nor null");
        }
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

// What one request is about: its lines and the references they carry.
struct Prompt {
  std::string user;
  std::set<std::string> refs;
};

}  // namespace

std::string SegmentRef(size_t index) { return "S" + std::to_string(index + 1); }

std::vector<std::vector<size_t>> ChunkSegments(const ReportInput& in, int chunk_chars) {
  std::vector<std::vector<size_t>> chunks;
  size_t used = 0;
  const size_t limit = static_cast<size_t>(std::max(1, chunk_chars));
  for (size_t i = 0; i < in.segments.size(); ++i) {
    size_t len = Line(in, i).size() + 1;
    if (chunks.empty() || (used + len > limit && !chunks.back().empty())) {
      chunks.emplace_back();
      used = 0;
    }
    chunks.back().push_back(i);
    used += len;
  }
  return chunks;
}

Result<ModelReport> ParseModelReport(const std::string& content,
                                     const std::set<std::string>& refs) {
  json doc = json::parse(content, nullptr, false);
  if (doc.is_discarded()) return NotAReport("the answer is not JSON");
  if (!doc.is_object()) return NotAReport("the answer is not a JSON object");
  static const char* kLists[] = {"summary", "decisions", "actions", "excerpts"};
  for (auto& [k, v] : doc.items())
    if (std::none_of(std::begin(kLists), std::end(kLists), [&](const char* l) { return k == l; }))
      return NotAReport("the answer has an unexpected member " + k);
  for (const char* l : kLists)
    if (!doc.contains(l)) return NotAReport(std::string("the answer has no ") + l);
  ModelReport r;
  CRM_ASSIGN_OR_RETURN(r.summary, Items(doc, "summary", refs, {"text", "segment"}));
  CRM_ASSIGN_OR_RETURN(r.decisions, Items(doc, "decisions", refs, {"text", "segment"}));
  CRM_ASSIGN_OR_RETURN(
      r.actions, Items(doc, "actions", refs, {"who", "what", "due_date", "due_text", "segment"}));
  CRM_ASSIGN_OR_RETURN(r.excerpts, Items(doc, "excerpts", refs, {"segment"}));
  return r;
}

namespace {

class ChatSession {
 public:
  explicit ChatSession(const OpenAiReportOptions& o)
      : o_(o),
        caller_(
            remote::OpenAiService{"the summary server", o.base_url, o.api_key, o.model},
            remote::RetryPolicy{o.max_retries, o.initial_backoff_seconds, o.max_backoff_seconds},
            o.progress) {
    std::string base = o.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    url_ = base + "/chat/completions";
    headers_ = remote::AuthHeaders(caller_.service());
  }

  int requests() const { return requests_; }

  Result<ModelReport> Ask(const std::string& system, const Prompt& prompt) {
    auto r = AskAs(system, prompt, json_schema_);
    // Servers without structured outputs refuse json_schema: ask for a JSON object instead.
    if (!r.ok() && json_schema_ && r.error().code == ErrorCode::kBadRequest &&
        (r.error().message.find("response_format") != std::string::npos ||
         r.error().message.find("json_schema") != std::string::npos ||
         (r.error().details.is_object() &&
          r.error().details.value("param", "").find("response_format") != std::string::npos))) {
      log::Info("the summary server has no structured outputs; asking for a JSON object",
                {{"model", o_.model}});
      json_schema_ = false;
      return AskAs(system, prompt, false);
    }
    return r;
  }

 private:
  Result<ModelReport> AskAs(const std::string& system, const Prompt& prompt, bool schema) {
    json body = {{"model", o_.model},
                 {"messages", json::array({{{"role", "system"}, {"content", system}},
                                           {{"role", "user"}, {"content", prompt.user}}})},
                 {"temperature", 0.2}};
    if (schema)
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema",
           {{"name", "compte_rendu"}, {"strict", true}, {"schema", ReportSchema()}}}};
    else
      body["response_format"] = {{"type", "json_object"}};
    const std::string text = body.dump();
    remote::HttpPostOptions http{o_.timeout_seconds, o_.connect_timeout_seconds,
                                 "the summary server"};
    std::optional<ModelReport> out;
    Status st = caller_.Call(
        [&] {
          ++requests_;
          return remote::PostJson(url_, headers_, text, http, o_.progress);
        },
        [&](const remote::HttpResponse& r) -> Status {
          CRM_ASSIGN_OR_RETURN(ModelReport m, Read(r, prompt.refs));
          out = std::move(m);
          return OkStatus();
        });
    if (!st.ok()) return st.take_error();
    return std::move(*out);
  }

  static Result<ModelReport> Read(const remote::HttpResponse& r,
                                  const std::set<std::string>& refs) {
    json doc = json::parse(r.body, nullptr, false);
    if (!doc.is_object() || !doc.contains("choices") || !doc["choices"].is_array() ||
        doc["choices"].empty() || !doc["choices"][0].is_object())
      return NotAReport("the answer is not a chat completion");
    const json& choice = doc["choices"][0];
    if (choice.value("finish_reason", json()).is_string() && choice["finish_reason"] == "length")
      return NotAReport("the answer was cut short (finish_reason length)");
    if (!choice.contains("message") || !choice["message"].is_object())
      return NotAReport("the chat completion has no message");
    const json& message = choice["message"];
    if (message.contains("refusal") && message["refusal"].is_string())
      return NotAReport("the model refused: " +
                        message["refusal"].get<std::string>().substr(0, 200));
    if (!message.contains("content") || !message["content"].is_string())
      return NotAReport("the message has no text content");
    return ParseModelReport(message["content"].get<std::string>(), refs);
  }

  const OpenAiReportOptions& o_;
  remote::RetryingCaller caller_;
  std::string url_;
  std::vector<std::string> headers_;
  bool json_schema_ = true;
  int requests_ = 0;
};

// The merge request's lines: each partial item under its reference.
Prompt MergePrompt(const ReportInput& in, const std::vector<ModelReport>& parts) {
  Prompt p;
  p.user = Header(in) + "Comptes rendus partiels :\n";
  auto add = [&](const char* kind, const ModelItem& m, const std::string& extra) {
    p.user += "[" + m.ref + "] " + kind + " : " + m.text + extra + "\n";
    p.refs.insert(m.ref);
  };
  for (size_t k = 0; k < parts.size(); ++k) {
    p.user += "Partie " + std::to_string(k + 1) + " :\n";
    for (const auto& m : parts[k].summary) add("résumé", m, "");
    for (const auto& m : parts[k].decisions) add("décision", m, "");
    for (const auto& m : parts[k].actions) {
      std::string extra = " (qui : " + (m.who.empty() ? std::string("?") : m.who);
      if (m.due_date) extra += " ; échéance : " + *m.due_date;
      if (!m.due_text.empty()) extra += " ; dit : " + m.due_text;
      add("action", m, extra + ")");
    }
    for (const auto& m : parts[k].excerpts) {
      p.user += "[" + m.ref + "] extrait\n";
      p.refs.insert(m.ref);
    }
  }
  return p;
}

}  // namespace

Result<Report> OpenAiReport(const ReportInput& in, const OpenAiReportOptions& o) {
  if (in.segments.empty())
    return InvalidArgument(
        "La transcription est vide : il n'y a rien à résumer. / The transcript is empty: there "
        "is nothing to summarise.",
        {{"transcript", "empty"}});
  if (o.base_url.rfind("http://", 0) != 0 && o.base_url.rfind("https://", 0) != 0)
    return InvalidArgument("OPENAI_BASE_URL must start with http:// or https://");
  const auto chunks = ChunkSegments(in, o.chunk_chars);
  if (static_cast<int>(chunks.size()) > o.max_chunks)
    return InvalidArgument("La transcription est trop longue pour SUMMARY_CHUNK_CHARS=" +
                               std::to_string(o.chunk_chars) + " (" +
                               std::to_string(chunks.size()) +
                               " parties). / The transcript is "
                               "too long for SUMMARY_CHUNK_CHARS; raise it.",
                           {{"SUMMARY_CHUNK_CHARS", o.chunk_chars}});
  std::map<std::string, size_t> by_ref;
  for (size_t i = 0; i < in.segments.size(); ++i) by_ref[SegmentRef(i)] = i;

  log::Info("summarising a transcript", {{"server", remote::LoggableUrl(o.base_url)},
                                         {"model", o.model},
                                         {"segments", in.segments.size()},
                                         {"chunks", chunks.size()}});
  ChatSession chat(o);
  const size_t steps = chunks.size() + (chunks.size() > 1 ? 1 : 0);
  std::vector<ModelReport> parts;
  auto fail = [&](Error e) -> Error {
    if (e.code == ErrorCode::kCancelled) return e;
    const std::string attempts = e.details.is_object() && e.details.contains("attempts")
                                     ? std::to_string(e.details["attempts"].get<int>())
                                     : std::string("?");
    std::string why = e.message;
    if (e.api_code == "summary_invalid_answer")
      why = "the summary server " + remote::LoggableUrl(o.base_url) + " (model " + o.model +
            ") answered " + attempts +
            " time(s) with something that is not a report: " + e.message +
            "; check OPENAI_CHAT_MODEL";
    e.message =
        "Le compte rendu n'a pas pu être rédigé par le serveur de résumé. / The summary "
        "server could not write the report: " +
        why;
    return e;
  };
  for (size_t k = 0; k < chunks.size(); ++k) {
    Prompt p;
    p.user = Header(in);
    if (chunks.size() > 1)
      p.user += "Partie " + std::to_string(k + 1) + " sur " + std::to_string(chunks.size()) +
                " de la transcription :\n";
    else
      p.user += "Transcription :\n";
    for (size_t i : chunks[k]) {
      p.user += Line(in, i) + "\n";
      p.refs.insert(SegmentRef(i));
    }
    auto part = chat.Ask(Instructions(in, false), p);
    if (!part.ok()) return fail(part.take_error());
    parts.push_back(std::move(*part));
    o.progress.Report(static_cast<double>(k + 1) / steps);
  }
  ModelReport merged;
  if (parts.size() == 1) {
    merged = std::move(parts[0]);
  } else {
    auto m = chat.Ask(Instructions(in, true), MergePrompt(in, parts));
    if (!m.ok()) return fail(m.take_error());
    merged = std::move(*m);
  }
  o.progress.Report(1.0);

  Report r = ReportHeader(in, "openai");
  auto sentence = [&](const ModelItem& m, bool own_text) {
    const ReportSegment& s = in.segments[by_ref.at(m.ref)];
    return ReportSentence{own_text ? s.text : m.text, s.speaker, s.start, s.end, s.id};
  };
  for (const auto& m : merged.summary)
    if (static_cast<int>(r.summary.size()) < o.max_summary) r.summary.push_back(sentence(m, false));
  for (const auto& m : merged.decisions)
    if (static_cast<int>(r.decisions.size()) < o.max_decisions)
      r.decisions.push_back(sentence(m, false));
  for (const auto& m : merged.actions) {
    if (static_cast<int>(r.actions.size()) >= o.max_actions) break;
    const ReportSegment& s = in.segments[by_ref.at(m.ref)];
    ActionItem a;
    a.who = m.who;
    a.what = m.text;
    a.due_text = m.due_text;
    a.due_date = m.due_date;
    if (!a.due_date && !m.due_text.empty()) {
      std::string said;
      a.due_date = ResolveDeadline(m.due_text, in.meeting_date, &said);
    }
    a.start = s.start;
    a.segment_id = s.id;
    r.actions.push_back(std::move(a));
  }
  std::set<std::string> seen;
  for (const auto& m : merged.excerpts)
    if (static_cast<int>(r.excerpts.size()) < o.max_excerpts && seen.insert(m.ref).second)
      r.excerpts.push_back(sentence(m, true));
  std::sort(r.excerpts.begin(), r.excerpts.end(),
            [](const ReportSentence& a, const ReportSentence& b) { return a.start < b.start; });
  log::Info("transcript summarised", {{"model", o.model},
                                      {"requests", chat.requests()},
                                      {"summary", r.summary.size()},
                                      {"actions", r.actions.size()}});
  return r;
}

}  // namespace crm::documents
