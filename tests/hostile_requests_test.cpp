// Thousands of hostile requests generated from the OpenAPI document, against the real server:
// every route gets wrong types, huge and negative numbers, invalid UTF-8 and NUL bytes, path
// traversal in ids and file names, CRLF in echoed values, oversized and truncated bodies,
// multipart without or with a false boundary, resumable uploads with wrong offsets or another
// firm's id, and Range abuse. Each must get a clear 4xx with the error shape; afterwards nothing
// is left in DATA_DIR/tmp, no table has gained or lost a row, and the server still answers.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kUploadMax = 64 * 1024;

std::string Upper(std::string m) {
  for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return m;
}

// A raw request on its own connection; `half_close` ends the client's side after sending (a
// truncated body), the answer is still read.
HttpResult Raw(int port, const std::string& bytes, bool half_close = false) {
  RawConnection c(port);
  if (!c.ok()) return {};
  c.Write(bytes);
  if (half_close) c.HalfClose();
  return ParseResponse(c.ReadAll(15000));
}

std::string Request(const std::string& method, const std::string& target,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    const std::string& body, bool with_length = true) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  if (with_length && (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT"))
    raw += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return raw + "\r\n" + body;
}

struct Case {
  std::string what;  // for the failure report
  std::string bytes;
  bool half_close = false;
  bool v1 = false;    // OpenAI's error shape
  bool head = false;  // no body to check
};

class HostileRequests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_ = new TestServer({{"UPLOAD_MAX_BYTES", std::to_string(kUploadMax)},
                         {"QUEUE_WORKERS", "0"},
                         {"RATE_LIMIT_API", "off"},
                         {"RATE_LIMIT_LOGIN", "off"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    doc_ = new json(s_->Get("/api/openapi.json").json());
    ids_ = new std::map<std::string, std::string>();
    auto h = Bearer(a_->api_key);
    auto& o = *ids_;
    o["client"] = s_->Call("POST", "/api/clients", {{"name", "Client A"}}, h).json()["id"];
    o["contact"] =
        s_->Call("POST", "/api/clients/" + o["client"] + "/contacts", {{"name", "Contact"}}, h)
            .json()["id"];
    o["meeting"] =
        s_->Call(
              "POST", "/api/meetings",
              {{"client_id", o["client"]}, {"title", "RDV"}, {"starts_at", "2026-12-01T09:00:00Z"}},
              h)
            .json()["id"];
    o["task"] = s_->Call("POST", "/api/tasks", {{"title", "Tâche"}, {"client_id", o["client"]}}, h)
                    .json()["id"];
    o["api_key"] = s_->Call("POST", "/api/api-keys", {{"name", "k"}}, h).json()["id"];
    auto rec = Send(s_->port(),
                    {"POST",
                     "/api/meetings/" + o["meeting"] + "/recordings?consent=true",
                     Wav1s(),
                     {{"Authorization", "Bearer " + a_->api_key}, {"Content-Type", "audio/wav"}}});
    ASSERT_EQ(rec.status, 201) << rec.body;
    o["recording"] = rec.json()["id"];
    o["job"] = rec.json().value("job_id", "");
    auto uh = h;
    uh.push_back({"Upload-Length", "1000"});
    auto up = s_->Call("POST", "/api/uploads", {{"client_id", o["client"]}, {"consent", true}}, uh);
    ASSERT_EQ(up.status, 201) << up.body;
    o["upload"] = up.json()["id"];
    for (auto& u : s_->Get("/api/users", h).json()["data"])
      if (u["email"] == a_->member_email) o["user"] = u["id"];
  }
  static void TearDownTestSuite() {
    delete ids_;
    delete doc_;
    delete b_;
    delete a_;
    delete s_;
  }

  // One second of 16 kHz mono silence with a tone, as a WAV file.
  static std::string Wav1s() {
    const int n = 16000;
    std::string d(44 + n * 2, '\0');
    auto put32 = [&](size_t at, uint32_t v) {
      for (int i = 0; i < 4; ++i) d[at + i] = static_cast<char>(v >> (8 * i));
    };
    auto put16 = [&](size_t at, uint16_t v) {
      d[at] = static_cast<char>(v);
      d[at + 1] = static_cast<char>(v >> 8);
    };
    d.replace(0, 4, "RIFF");
    put32(4, 36 + n * 2);
    d.replace(8, 8, "WAVEfmt ");
    put32(16, 16);
    put16(20, 1);
    put16(22, 1);
    put32(24, 16000);
    put32(28, 32000);
    put16(32, 2);
    put16(34, 16);
    d.replace(36, 4, "data");
    put32(40, n * 2);
    for (int i = 0; i < n; ++i)
      put16(44 + 2 * i, static_cast<uint16_t>((i % 40 < 20 ? 3000 : -3000)));
    return d;
  }

  // The object a path parameter names (the tenant matrix's table).
  static std::string ObjectFor(const std::string& path, const std::string& param) {
    if (param == "contact_id") return "contact";
    if (param == "segment_id") return "segment";
    if (param == "label") return "label";
    static const std::vector<std::pair<std::string, std::string>> prefixes = {
        {"/api/clients/", "client"}, {"/api/meetings/", "meeting"},
        {"/api/tasks/", "task"},     {"/api/api-keys/", "api_key"},
        {"/api/users/", "user"},     {"/api/recordings/", "recording"},
        {"/api/jobs/", "job"},       {"/api/uploads/", "upload"},
    };
    for (auto& [prefix, object] : prefixes)
      if (path.rfind(prefix, 0) == 0) return object;
    return "";
  }
  // The path with A's ids, except `hostile_param` (if any) replaced by `value` (already encoded).
  static std::string Fill(const std::string& pattern, const std::string& hostile_param = "",
                          const std::string& value = "") {
    std::string out = pattern;
    size_t p;
    while ((p = out.find('{')) != std::string::npos) {
      size_t e = out.find('}', p);
      std::string param = out.substr(p + 1, e - p - 1);
      std::string v;
      if (param == hostile_param)
        v = value;
      else if (auto it = ids_->find(ObjectFor(pattern, param));
               it != ids_->end() && !it->second.empty())
        v = it->second;
      else
        v = param == "label" ? "SPEAKER_1" : "missing-" + param;
      out.replace(p, e - p + 1, v);
    }
    return out;
  }
  static bool IsUpload(const std::string& method, const std::string& path) {
    return (method == "POST" &&
            (path.size() > 11 && path.compare(path.size() - 11, 11, "/recordings") == 0)) ||
           path == "/v1/audio/transcriptions" ||
           (method == "PATCH" && path == "/api/uploads/{id}") ||
           (method == "POST" && path.find("/documents") != std::string::npos);
  }
  static std::vector<std::string> Params(const std::string& path) {
    std::vector<std::string> out;
    size_t p = 0;
    while ((p = path.find('{', p)) != std::string::npos) {
      size_t e = path.find('}', p);
      out.push_back(path.substr(p + 1, e - p - 1));
      p = e;
    }
    return out;
  }
  static json Schema(const json& op) {
    if (!op.contains("requestBody")) return json::object();
    json s = op["requestBody"]["content"]
                 .value("application/json", json::object())
                 .value("schema", json::object());
    if (s.contains("$ref")) {
      std::string name =
          s["$ref"].get<std::string>().substr(std::string("#/components/schemas/").size());
      s = (*doc_)["components"]["schemas"][name];
    }
    return s;
  }

  // Every case for one operation.
  static void Generate(const std::string& method, const std::string& path, const json& op,
                       std::vector<Case>* out);

  // Sends each case; returns the failures and counts the statuses.
  static std::vector<std::string> Run(const std::vector<Case>& cases,
                                      std::map<int, int>* statuses) {
    std::vector<std::string> failures;
    for (const auto& c : cases) {
      HttpResult r = Raw(s_->port(), c.bytes, c.half_close);
      ++(*statuses)[r.status];
      std::string why;
      if (r.status < 400 || r.status > 499) {
        why = "status " + std::to_string(r.status);
      } else if (!r.header("x-injected").empty() || !r.header("set-cookie").empty()) {
        why = "a header was injected";
      } else if (!c.head) {
        json j = r.json();
        if (r.header("content-type").rfind("application/json", 0) != 0)
          why = "not JSON: " + r.header("content-type");
        else if (!j.is_object() || !j.contains("error") || !j["error"].is_object())
          why = "no error object";
        else if (!j["error"].contains("message") || !j["error"]["message"].is_string() ||
                 j["error"]["message"].get<std::string>().empty())
          why = "no message";
        else if (c.v1 ? !j["error"].contains("type") || !j["error"].contains("code")
                      : !j["error"].contains("code"))
          why = c.v1 ? "not OpenAI's error shape" : "not the error shape";
      }
      if (!why.empty()) failures.push_back(c.what + " → " + why + ": " + r.body.substr(0, 300));
    }
    return failures;
  }

  static std::map<std::string, int64_t> RowCounts() {
    std::map<std::string, int64_t> out;
    std::string db = s_->data_dir() + "/crm-ai.sqlite3";
    std::string cmd =
        "sqlite3 -readonly '" + db +
        "' \"SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'\"";
    FILE* p = popen(cmd.c_str(), "r");
    char line[512];
    std::vector<std::string> tables;
    while (p && fgets(line, sizeof line, p)) {
      std::string t(line);
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
      if (!t.empty()) tables.push_back(t);
    }
    if (p) pclose(p);
    std::string q;
    for (auto& t : tables) q += "SELECT '" + t + "', count(*) FROM \\\"" + t + "\\\";";
    p = popen(("sqlite3 -readonly -separator ' ' '" + db + "' \"" + q + "\"").c_str(), "r");
    while (p && fgets(line, sizeof line, p)) {
      char name[256];
      long long n;
      if (std::sscanf(line, "%255s %lld", name, &n) == 2) out[name] = n;
    }
    if (p) pclose(p);
    return out;
  }

  static std::vector<std::string> TmpFiles() {
    std::vector<std::string> out;
    std::error_code ec;
    for (auto& e : fs::recursive_directory_iterator(s_->data_dir() + "/tmp", ec))
      if (e.is_regular_file())
        out.push_back(e.path().string() + " " + std::to_string(e.file_size()));
    std::sort(out.begin(), out.end());
    return out;
  }

  static TestServer* s_;
  static TestFirm *a_, *b_;
  static json* doc_;
  static std::map<std::string, std::string>* ids_;
};
TestServer* HostileRequests::s_ = nullptr;
TestFirm* HostileRequests::a_ = nullptr;
TestFirm* HostileRequests::b_ = nullptr;
json* HostileRequests::doc_ = nullptr;
std::map<std::string, std::string>* HostileRequests::ids_ = nullptr;

// Path parameters: traversal, encodings, numbers, injections, another firm's id.
// File names sent in multipart uploads.
const std::vector<const char*> kHostileFileNames = {"../../../../etc/passwd",
                                                    "..\\..\\boot.ini",
                                                    "a\r\nX-Injected: yes.wav",
                                                    "nul\xff.wav",
                                                    "/abs/path.wav",
                                                    "con.wav%00.exe",
                                                    "..",
                                                    "a\x01b.pdf"};

// Actions that read no body: a body, well-formed or not, is ignored (as by most HTTP APIs), so
// the generated JSON bodies are not sent to them (they would run the action).
const std::set<std::string> kBodylessActions = {
    "/api/auth/logout", "/api/jobs/{id}/cancel", "/api/jobs/{id}/retry",
    "/api/recordings/{id}/transcribe", "/api/reports/{id}/review"};

const std::vector<std::string> kHostileIds = {
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "..%5C..%5Cwindows",
    "%2e%2e%2f%2e%2e%2f",
    "%00",
    "abc%00def",
    "%FF%FE%FD",
    "%C0%AE%C0%AE%2F",
    "%ED%A0%80",
    "-1",
    "0",
    "99999999999999999999999999999",
    "1e309",
    "NaN",
    "'%20OR%20'1'%3D'1",
    "%22%3B%20DROP%20TABLE%20clients%3B--",
    "%0D%0AX-Injected:%20yes",
    "%E2%80%AE",
    std::string(300, 'a'),
    std::string(6000, 'z'),
    "%25",
    "null",
    "%7Bid%7D",
    "%20",
};

void HostileRequests::Generate(const std::string& method, const std::string& path, const json& op,
                               std::vector<Case>* out) {
  bool v1 = path.rfind("/v1/", 0) == 0;
  bool head = method == "HEAD";
  bool needs_auth = !op.contains("security");
  bool writes = method == "POST" || method == "PATCH" || method == "PUT";
  bool upload = IsUpload(method, path);
  auto add = [&](std::string what, std::string bytes, bool half_close = false) {
    out->push_back({method + " " + path + ": " + what, std::move(bytes), half_close, v1, head});
  };
  auto key_a =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", "Bearer " + a_->api_key}};
  auto json_type = [&](std::vector<std::pair<std::string, std::string>> h) {
    h.push_back({"Content-Type", "application/json"});
    return h;
  };
  const std::string own = Fill(path);
  const std::string body_ok = writes && !upload ? "{}" : "";

  // 1. Credentials: none, wrong, malformed, another scheme.
  if (needs_auth) {
    for (auto& h : std::vector<std::vector<std::pair<std::string, std::string>>>{
             {},
             {{"Authorization", "Bearer crm_wrong"}},
             {{"Authorization", "Bearer "}},
             {{"Authorization", "Basic YWRtaW46YWRtaW4="}},
             {{"X-API-Key", "%00%FF"}},
             {{"Cookie", "crm_session=forged; crm_session=again"}}})
      add("credentials " + (h.empty() ? std::string("none") : h[0].second.substr(0, 20)),
          Request(method, own, json_type(h), body_ok));
  }

  // 2. Path parameters: hostile values, and another firm (B) on A's ids.
  for (const auto& param : Params(path)) {
    for (const auto& v : kHostileIds)
      add("{" + param + "}=" + v.substr(0, 40),
          Request(method, Fill(path, param, v), json_type(key_a), body_ok));
  }
  if (path.find('{') != std::string::npos && needs_auth)
    add("another firm's ids",
        Request(method, own, json_type({{"Authorization", "Bearer " + b_->api_key}}), body_ok));

  // 3. Query strings: invalid UTF-8, NUL, CRLF-looking values (every route).
  for (const char* q : {"q=%FF%FE", "q=caf%C3", "q=a%00b", "x%FF=1", "q=%ED%A0%80", "q=%C0%80"})
    add(std::string("query ") + q, Request(method, own + "?" + q, json_type(key_a), body_ok));

  // 4. Paged lists: limit and cursor abuse.
  bool paged = false;
  for (auto& p : op.value("parameters", json::array()))
    paged |= p.value("name", "") == "limit" && p.value("in", "") == "query";
  if (paged) {
    std::string base = own + (path == "/api/search" ? "?q=client&" : "?");
    for (const char* v : {"-1", "0", "201", "abc", "1e3", "99999999999999999999", "%00", "%FF",
                          "1.5", "+5", "0x10", "%20%2010"})
      add(std::string("limit=") + v, Request(method, base + "limit=" + v, key_a, ""));
    for (const char* v : {"garbage", "%FF%FE", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "eyJpZCI6IjEnIE9SIDE9MSJ9", "..%2F..%2Fetc", "%00"})
      add(std::string("cursor=") + v, Request(method, base + "cursor=" + v, key_a, ""));
  }

  // 5. JSON bodies: malformed, wrong shapes, wrong types per documented field, huge numbers,
  // invalid UTF-8, raw NUL, deep nesting, truncated and oversized bodies.
  if (writes && !upload && !kBodylessActions.count(path)) {
    auto h = json_type(key_a);
    for (const std::string& b :
         std::vector<std::string>{"",
                                  "{",
                                  "}",
                                  "[1,2]",
                                  "null",
                                  "42",
                                  "\"texte\"",
                                  "{\"a\":}",
                                  "{\"a\" 1}",
                                  "{'a': 1}",
                                  "{\"name\": \"\xff\xfe\"}",
                                  std::string("{\"name\": \"a\0b\"}", 16),
                                  "{\"n\": 1e999}",
                                  "{\"n\": -1e999}",
                                  "{\"name\": \"a\r\nX-Injected: yes\" \r\n",
                                  "{\"zz\\u0000\": 1, \"a\r\nX-Injected: 1\": 2}",
                                  std::string(100000, '['),
                                  "{\"name\": \"abc",
                                  "{\"a\":1}{\"b\":2}",
                                  "\xef\xbb\xbf{\"\xc0\xaf\": 1}"})
      add("body " + json(b.substr(0, 30))
                        .dump(-1, ' ', false, json::error_handler_t::replace)
                        .substr(0, 40),
          Request(method, own, h, b));
    add("body of 2 MB",
        Request(method, own, h, "{\"name\": \"" + std::string(2 << 20, 'x') + "\"}"));
    add("body truncated by the client",
        method + " " + own + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + a_->api_key +
            "\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"name\": \"ab",
        true);
    add("bad chunked body", method + " " + own + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " +
                                a_->api_key +
                                "\r\nContent-Type: application/json\r\nTransfer-Encoding: "
                                "chunked\r\n\r\nZZ\r\n{}\r\n0\r\n\r\n");
    // Kept in a variable: a range over a temporary's items() would dangle.
    const json properties = Schema(op).value("properties", json::object());
    for (auto& [field, spec] : properties.items()) {
      // "type": "string" or ["string", "null"].
      const json t = spec.contains("type") && spec["type"].is_array() && !spec["type"].empty()
                         ? spec["type"][0]
                         : spec.value("type", json());
      std::string type = t.is_string() ? t.get<std::string>() : "";
      std::vector<json> wrong;
      if (type == "string")
        wrong = {123, true, json::array({"a"}), json::object(), -1e300};
      else if (type == "integer")
        wrong = {"abc", 1.5, 1e300, -1e300, true, json::array(), "99999999999999999999"};
      else if (type == "number")
        wrong = {"abc", true, json::array(), json::object()};
      else if (type == "boolean")
        wrong = {"yes", 1, json::array(), "true "};
      else if (type == "array")
        wrong = {"a", 1, json::object()};
      else
        wrong = {json::array({json::array()}), 1e300};
      if (spec.contains("format") && (spec["format"] == "date-time" || spec["format"] == "date"))
        for (const char* t :
             {"2026-01-01T00:00:00+ab:cd", "2026-01-01T00:00:00+1a:00", "2026-02-30",
              "2026-13-01T00:00:00Z", "+026-01-01", "2026-01-01T24:00:00Z", "demain"})
          wrong.push_back(t);
      if (spec.contains("maxLength"))
        wrong.push_back(std::string(spec["maxLength"].get<size_t>() + 1, 'x'));
      for (auto& v : wrong) {
        json b = {{field, v}};
        add("field " + field + "=" + v.dump().substr(0, 30), Request(method, own, h, b.dump()));
      }
    }
  }

  // 6. Uploads: multipart without or with a false boundary, traversal in file names, over the
  // limit, not media, truncated, broken lengths.
  if (upload) {
    auto h = key_a;
    std::string target =
        own + (path.find("/recordings") != std::string::npos ? "?consent=true" : "");
    auto part = [](const std::string& b, const std::string& name, const std::string& filename,
                   const std::string& data) {
      return "--" + b + "\r\nContent-Disposition: form-data; name=\"" + name + "\"" +
             (filename.empty() ? "" : "; filename=\"" + filename + "\"") +
             "\r\nContent-Type: application/octet-stream\r\n\r\n" + data + "\r\n";
    };
    std::string fields = part("B0", "model", "", "whisper-1") + part("B0", "consent", "", "true");
    auto mp = [&](std::string what, std::string type, std::string body) {
      auto hh = h;
      hh.push_back({"Content-Type", type});
      add(what, Request(method, target, hh, body));
    };
    if (method != "PATCH") {
      std::string good_file = part("B0", "file", "a.wav", "RIFF....WAVE");
      mp("multipart without boundary", "multipart/form-data", fields + good_file + "--B0--\r\n");
      mp("multipart with an empty boundary",
         "multipart/form-data; boundary=", fields + good_file + "--B0--\r\n");
      mp("multipart with a false boundary", "multipart/form-data; boundary=OTHER",
         fields + good_file + "--B0--\r\n");
      mp("multipart boundary of 200 characters",
         "multipart/form-data; boundary=" + std::string(200, 'b'), "x");
      mp("multipart without closing boundary", "multipart/form-data; boundary=B0",
         fields + good_file);
      mp("multipart without a file part", "multipart/form-data; boundary=B0",
         fields + "--B0--\r\n");
      mp("multipart with two file parts", "multipart/form-data; boundary=B0",
         fields + good_file + good_file + "--B0--\r\n");
      mp("multipart part without a name", "multipart/form-data; boundary=B0",
         "--B0\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B0--\r\n");
      mp("multipart part headers of 20 KB", "multipart/form-data; boundary=B0",
         "--B0\r\nContent-Disposition: form-data; name=\"file\"\r\nX: " + std::string(20000, 'h') +
             "\r\n\r\nx\r\n--B0--\r\n");
      mp("multipart garbage after the boundary", "multipart/form-data; boundary=B0",
         "--B0zz\r\n\r\n--B0--\r\n");
      // A document of any type is kept (its name cleaned, see DocumentFileNamesAreCleaned);
      // recordings and /v1 refuse these bodies, which are not media.
      for (const char* name : kHostileFileNames)
        if (path.find("/documents") == std::string::npos)
          mp(std::string("multipart file name ") +
                 json(std::string(name)).dump(-1, ' ', false, json::error_handler_t::replace),
             "multipart/form-data; boundary=B0",
             fields + part("B0", "file", name, "ceci n'est pas un son") + "--B0--\r\n");
      mp("multipart file over UPLOAD_MAX_BYTES", "multipart/form-data; boundary=B0",
         fields + part("B0", "file", "a.wav", std::string(kUploadMax + 1, 'x')) + "--B0--\r\n");
      add("multipart body truncated by the client",
          method + " " + target + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + a_->api_key +
              "\r\nContent-Type: multipart/form-data; boundary=B0\r\nContent-Length: 5000\r\n\r\n" +
              fields,
          true);
      if (!v1) {
        mp("raw body that is not media", "audio/wav", "ceci n'est pas un son");
        mp("raw body over UPLOAD_MAX_BYTES", "audio/wav", std::string(kUploadMax + 1, 'x'));
        mp("raw truncated WAV header", "audio/wav", Wav1s().substr(0, 30));
      }
    } else {
      // Resumable: wrong offsets, lengths and types on A's open upload (1000 bytes declared).
      for (const char* off : {"5", "-1", "abc", "99999999999", "1e3", "", "0x0", " 1"}) {
        auto hh = h;
        hh.push_back({"Content-Type", "application/offset+octet-stream"});
        if (*off) hh.push_back({"Upload-Offset", off});
        add(std::string("Upload-Offset ") + off, Request(method, own, hh, "0123456789"));
      }
      auto hh = h;
      hh.push_back({"Content-Type", "application/offset+octet-stream"});
      hh.push_back({"Upload-Offset", "0"});
      add("more bytes than Upload-Length", Request(method, own, hh, std::string(1500, 'x')));
      add("more bytes than UPLOAD_MAX_BYTES",
          Request(method, own, hh, std::string(kUploadMax + 10, 'x')));
      // A malformed chunk (an interrupted append keeps what arrived, as tus wants: not here).
      add("bad chunked append",
          method + " " + own + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + a_->api_key +
              "\r\nUpload-Offset: 0\r\nContent-Type: "
              "application/offset+octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
              "ZZ\r\nabc\r\n0\r\n\r\n",
          true);
      auto hb = std::vector<std::pair<std::string, std::string>>{
          {"Authorization", "Bearer " + b_->api_key},
          {"Upload-Offset", "0"},
          {"Content-Type", "application/offset+octet-stream"}};
      add("another firm's upload", Request(method, own, hb, "0123456789"));
    }
    // Lengths the parser must refuse.
    for (const char* cl : {"-1", "abc", "99999999999999999999999", "1, 2", "0x10"})
      add(std::string("Content-Length: ") + cl,
          method + " " + target + " HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + a_->api_key +
              "\r\nContent-Type: audio/wav\r\nContent-Length: " + cl + "\r\n\r\n");
  }

  // 7. Resumable upload creation: lengths.
  if (method == "POST" && path == "/api/uploads") {
    json body = {{"client_id", (*ids_)["client"]}, {"consent", true}};
    for (const char* len :
         {"", "-1", "abc", "0", "99999999999999999999", "209715201000", "1e3", "1.5"}) {
      auto hh = json_type(key_a);
      if (*len) hh.push_back({"Upload-Length", len});
      add(std::string("Upload-Length ") + len, Request(method, own, hh, body.dump()));
    }
    auto hh = json_type(key_a);
    hh.push_back({"Upload-Length", "1000"});
    add("another firm's client",
        Request(method, own, hh, json{{"client_id", "x"}, {"consent", true}}.dump()));
    add("no consent", Request(method, own, hh, json{{"client_id", (*ids_)["client"]}}.dump()));
  }

  // 8. Range abuse on the audio.
  if (path == "/api/recordings/{id}/audio") {
    for (const char* r :
         {"bytes=abc", "bytes=5-1", "bytes=999999999999-", "bytes=0-1,2-3", "bytes=--1", "bytes=-0",
          "items=0-1", "bytes=", "bytes=-", "bytes=0-99999999999999999999999", "bytes=1-2-3",
          "bytes=\xff-", "bytes=-99999999999999999999", "bytes=0-0,0-0,0-0,0-0,0-0,0-0", "bytes= -",
          "bytes=18446744073709551616-"}) {
      auto hh = key_a;
      hh.push_back({"Range", r});
      add(std::string("Range ") +
              json(std::string(r)).dump(-1, ' ', false, json::error_handler_t::replace),
          Request(method, own, hh, ""));
    }
  }
}

TEST_F(HostileRequests, EveryRouteAnswersAClear4xxAndNothingIsLeftBehind) {
  auto rows_before = RowCounts();
  auto tmp_before = TmpFiles();
  ASSERT_FALSE(rows_before.empty());
  std::vector<Case> cases;
  std::set<std::string> routes;
  for (auto& [path, methods] : (*doc_)["paths"].items()) {
    for (auto& [m, op] : methods.items()) {
      std::string method = Upper(m);
      size_t before = cases.size();
      Generate(method, path, op, &cases);
      if (cases.size() > before) routes.insert(method + " " + path);
    }
    // Methods a path does not have: 405 with Allow.
    for (const char* m : {"PUT", "TRACE"})
      if (!methods.contains(std::string(m == std::string("PUT") ? "put" : "trace")))
        cases.push_back({std::string(m) + " " + path + ": method not allowed",
                         Request(m, Fill(path), {{"Authorization", "Bearer " + a_->api_key}}, ""),
                         false, path.rfind("/v1/", 0) == 0, false});
  }
  auto start = std::chrono::steady_clock::now();
  std::map<int, int> statuses;
  auto failures = Run(cases, &statuses);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "hostile requests: %zu cases over %zu operations of the OpenAPI document, %zu failed, %.1f "
      "s\n",
      cases.size(), routes.size(), failures.size(), secs);
  std::string by_status;
  for (auto& [status, n] : statuses)
    by_status += " " + std::to_string(status) + ": " + std::to_string(n);
  std::printf("statuses:%s\n", by_status.c_str());
  EXPECT_GE(cases.size(), 2000u);
  for (size_t i = 0; i < failures.size() && i < 200; ++i) ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " of " << cases.size() << " cases failed";
  // The server is up and said nothing of a crash.
  EXPECT_EQ(s_->Get("/health/live").status, 200);
  std::string log = s_->log();
  EXPECT_EQ(log.find("handler threw"), std::string::npos);
  EXPECT_EQ(log.find("I/O thread error"), std::string::npos);
  // Nothing left behind: the same temporary files (A's open upload) and the same row counts.
  EXPECT_EQ(TmpFiles(), tmp_before);
  auto rows_after = RowCounts();
  for (auto& [table, n] : rows_before) EXPECT_EQ(rows_after[table], n) << table;
  EXPECT_EQ(rows_after.size(), rows_before.size());
  // A's objects are untouched.
  auto h = Bearer(a_->api_key);
  EXPECT_EQ(s_->Get("/api/clients/" + (*ids_)["client"], h).json()["version"], 1);
  EXPECT_EQ(s_->Get("/api/uploads/" + (*ids_)["upload"], h).json()["offset"], 0);
}

// A document keeps any file, so a hostile file name is not refused: it is cleaned (the last path
// component, no control character) or refused with a 422 naming it, and nothing lands outside
// the blob store.
TEST_F(HostileRequests, DocumentFileNamesAreCleaned) {
  int accepted = 0;
  for (const char* name : kHostileFileNames) {
    std::string body = "--B0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                       std::string(name) +
                       "\"\r\nContent-Type: text/plain\r\n\r\nune note du dossier\r\n--B0--\r\n";
    auto r = Send(s_->port(), {"POST",
                               "/api/clients/" + (*ids_)["client"] + "/documents",
                               body,
                               {{"Authorization", "Bearer " + a_->api_key},
                                {"Content-Type", "multipart/form-data; boundary=B0"}}});
    std::string shown =
        json(std::string(name)).dump(-1, ' ', false, json::error_handler_t::replace);
    ASSERT_TRUE(r.status == 201 || r.status == 422) << shown << ": " << r.status << " " << r.body;
    EXPECT_TRUE(r.header("x-injected").empty()) << shown;
    if (r.status == 422) {
      EXPECT_TRUE(r.json()["error"]["details"].is_object()) << r.body;
      continue;
    }
    ++accepted;
    std::string stored = r.json().value("name", "");
    EXPECT_FALSE(stored.empty()) << shown << ": " << r.body;
    EXPECT_EQ(stored.find_first_of("/\\"), std::string::npos) << shown << " → " << stored;
    for (unsigned char c : stored) EXPECT_GE(c, 0x20) << shown << " → " << json(stored).dump();
    EXPECT_NE(stored, "..");
  }
  EXPECT_GT(accepted, 0);
  // Nothing was written outside DATA_DIR's own directories.
  EXPECT_FALSE(fs::exists(s_->data_dir() + "/../etc/passwd"));
  EXPECT_FALSE(fs::exists("/abs/path.wav"));
  EXPECT_EQ(s_->Get("/health/live").status, 200);
}

// The 422s name what is wrong: a tampered cursor on every list paged by id, and an export
// without its format (never a silent default), with nothing created.
// details[field] of an error answer, or "" when the answer has none.
std::string Detail(const HttpResult& r, const std::string& field) {
  json d = r.json();
  for (const char* k : {"error", "details"}) d = d.is_object() && d.contains(k) ? d[k] : json();
  return d.is_object() && d.contains(field) && d[field].is_string() ? d[field].get<std::string>()
                                                                    : "";
}

TEST_F(HostileRequests, TamperedCursorsAndAMissingExportFormatAreNamed) {
  auto h = Bearer(a_->api_key);
  for (const std::string& list : std::vector<std::string>{
           "/api/audit", "/api/documents", "/api/clients/" + (*ids_)["client"] + "/documents",
           "/api/recordings", "/api/jobs", "/api/reports", "/api/voiceprints"}) {
    for (const char* cursor : {"garbage", "01M98K9J6YZN6T3CK6FCHH2000AA", "..%2F..%2Fetc"}) {
      auto r = s_->Get(list + "?cursor=" + cursor, h);
      EXPECT_EQ(r.status, 422) << list << " " << cursor << ": " << r.body;
      EXPECT_EQ(Detail(r, "cursor"), "invalid") << list << ": " << r.body;
    }
    // The cursor a page gives is accepted.
    EXPECT_EQ(s_->Get(list + "?cursor=" + (*ids_)["recording"], h).status, 200) << list;
  }
  std::string exports = "/api/recordings/" + (*ids_)["recording"] + "/transcript/exports";
  for (const std::string& body : std::vector<std::string>{"", "{}", "{\"fmt\": \"pdf\"}"}) {
    auto r = Send(s_->port(), {"POST", exports, body, h});
    EXPECT_EQ(r.status, 422) << json(body) << ": " << r.body;
    EXPECT_EQ(Detail(r, "format"), "required") << r.body;
  }
  EXPECT_EQ(s_->Call("POST", exports, {{"format", 3}}, h).status, 422);
  EXPECT_EQ(RowCounts()["document_exports"], 0);
}

}  // namespace
}  // namespace crm::testing
