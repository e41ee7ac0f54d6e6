// Documents against the real server: multipart upload under UPLOAD_MAX_BYTES, the type sniffed
// from the bytes, SHA-256, download with Range, rename, versions, delete (audited, files gone),
// text extraction by the in-process worker into /api/search (accents folded, document and page
// named), hostile files refused with nothing kept, unreadable files kept as not searchable, and
// another firm's 404s.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "common/ids.h"
#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto& e : fs::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file()) out.push_back(e.path().string());
  return out;
}

std::string Part(const std::string& boundary, const std::string& file, const std::string& filename,
                 const std::map<std::string, std::string>& fields = {},
                 const std::string& type = "application/octet-stream") {
  std::string b;
  for (auto& [k, v] : fields)
    b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v +
         "\r\n";
  b += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
       filename + "\"\r\nContent-Type: " + type + "\r\n\r\n" + file + "\r\n--" + boundary +
       "--\r\n";
  return b;
}

// A small valid PDF, one line of text per page.
std::string TinyPdf(const std::vector<std::string>& pages) {
  std::vector<std::string> objs;
  std::string kids;
  int n = static_cast<int>(pages.size());
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  for (int i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  objs.push_back(
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (int i = 0; i < n; ++i) {
    std::string content = "BT /F1 12 Tf 72 720 Td (" + pages[i] + ") Tj ET";
    objs.push_back(
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << "
        "/F1 3 0 R >> >> /Contents " +
        std::to_string(5 + 2 * i) + " 0 R >>");
    objs.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content +
                   "\nendstream");
  }
  std::string out = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objs.size(); ++i) {
    offsets.push_back(out.size());
    out += std::to_string(i + 1) + " 0 obj\n" + objs[i] + "\nendobj\n";
  }
  size_t xref = out.size();
  out += "xref\n0 " + std::to_string(objs.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char line[32];
    snprintf(line, sizeof line, "%010zu 00000 n \n", off);
    out += line;
  }
  out += "trailer\n<< /Size " + std::to_string(objs.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

class Documents : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    InitCrypto();
    dir_ = new std::string((fs::temp_directory_path() / ("crm-doc-" + RandomHex(6))).string());
    fs::create_directories(*dir_);
    s_ = new TestServer({{"UPLOAD_MAX_BYTES", "2000000"}, {"QUEUE_WORKERS", "1"}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    a_ = new TestFirm(CreateFirm(*s_, "Cabinet A"));
    b_ = new TestFirm(CreateFirm(*s_, "Cabinet B"));
    auto h = Bearer(a_->api_key);
    client_ = new std::string(
        s_->Call("POST", "/api/clients", {{"name", "Mme Lefèvre"}}, h).json()["id"]);
    meeting_ = new std::string(
        s_->Call("POST", "/api/meetings",
                 {{"client_id", *client_}, {"title", "RDV"}, {"starts_at", "2026-12-01T09:00:00Z"}},
                 h)
            .json()["id"]);
  }
  static void TearDownTestSuite() {
    delete s_;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
  }

  // Builds a ZIP archive with Python's zipfile (deflated members) and returns its bytes.
  static std::string Zip(const std::vector<std::pair<std::string, std::string>>& members) {
    std::string script = *dir_ + "/zip.py", out = *dir_ + "/out-" + RandomHex(4) + ".zip";
    std::string py =
        "import sys, zipfile, json\nm = json.load(open(sys.argv[2]))\n"
        "with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n"
        "    for name, data in m:\n"
        "        z.writestr(name, data.encode('utf-8') if data != '@zeros' else "
        "bytes(16 << 20))\n";
    std::ofstream(script) << py;
    std::string members_path = out + ".json";
    std::ofstream(members_path) << json(members).dump();
    std::string cmd = "/usr/bin/python3 " + script + " " + out + " " + members_path;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return ReadFile(out);
  }
  static std::string Docx(const std::string& body, const std::string& prolog = "") {
    return Zip({{"[Content_Types].xml", "<Types/>"},
                {"word/document.xml",
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>" + prolog +
                     "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/"
                     "2006/main\"><w:body>" +
                     body + "</w:body></w:document>"}});
  }

  static HttpResult Upload(const std::string& target, const std::string& file,
                           const std::string& filename, const std::string& key,
                           const std::map<std::string, std::string>& fields = {},
                           std::vector<std::pair<std::string, std::string>> extra = {}) {
    auto headers = Bearer(key);
    headers.push_back({"Content-Type", "multipart/form-data; boundary=bNd"});
    for (auto& h : extra) headers.push_back(h);
    return Send(s_->port(), {"POST", target, Part("bNd", file, filename, fields), headers});
  }
  // Waits for the extraction job to leave the "pending" state.
  static json WaitForText(const std::string& id) {
    json doc;
    for (int i = 0; i < 200; ++i) {
      doc = s_->Get("/api/documents/" + id, Bearer(a_->api_key)).json();
      if (doc["text"]["state"] != "pending") return doc;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return doc;
  }
  static std::string Sql(const std::string& query) {
    std::string out = *dir_ + "/sql.txt";
    std::string cmd = "sqlite3 " + s_->data_dir() + "/crm-ai.sqlite3 \"" + query + "\" > " + out;
    EXPECT_EQ(std::system(cmd.c_str()), 0);
    return ReadFile(out);
  }

  static inline std::string* dir_ = nullptr;
  static inline TestServer* s_ = nullptr;
  static inline TestFirm* a_ = nullptr;
  static inline TestFirm* b_ = nullptr;
  static inline std::string* client_ = nullptr;
  static inline std::string* meeting_ = nullptr;
};

TEST_F(Documents, UploadsAnyFileWithItsTypeFromTheBytesAndDownloadsWithRange) {
  std::string png = std::string("\x89PNG\r\n\x1A\n", 8) + std::string(3000, 'x');
  auto r = Upload("/api/clients/" + *client_ + "/documents", png, "contrat signé.pdf", a_->api_key);
  ASSERT_EQ(r.status, 201) << r.body;
  json doc = r.json();
  EXPECT_EQ(doc["name"], "contrat signé.pdf");
  EXPECT_EQ(doc["content_type"], "image/png");  // not the name's, not the part's header
  EXPECT_EQ(doc["size_bytes"], png.size());
  EXPECT_EQ(doc["sha256"], Sha256Hex(png));
  EXPECT_EQ(doc["current_version"], 1);
  EXPECT_EQ(r.header("location"), "/api/documents/" + doc["id"].get<std::string>());
  std::string id = doc["id"];
  // One file under documents/<firm>/<document>/, with the upload's bytes.
  const std::string folder = s_->data_dir() + "/documents/" + a_->id + "/" + id;
  int files = 0;
  for (auto& e : fs::directory_iterator(folder)) {
    ++files;
    EXPECT_EQ(fs::file_size(e.path()), png.size());
  }
  EXPECT_EQ(files, 1);

  auto full = s_->Get("/api/documents/" + id + "/download", Bearer(a_->api_key));
  EXPECT_EQ(full.status, 200);
  EXPECT_EQ(full.body, png);
  EXPECT_EQ(full.header("content-type"), "image/png");
  EXPECT_NE(full.header("content-disposition").find("filename*=UTF-8''contrat%20sign%C3%A9.pdf"),
            std::string::npos);
  auto part = s_->Get("/api/documents/" + id + "/download",
                      {{"Authorization", "Bearer " + a_->api_key}, {"Range", "bytes=1-3"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "PNG");
  EXPECT_EQ(part.header("content-range"), "bytes 1-3/" + std::to_string(png.size()));
  auto bad = s_->Get("/api/documents/" + id + "/download",
                     {{"Authorization", "Bearer " + a_->api_key}, {"Range", "bytes=99999-"}});
  EXPECT_EQ(bad.status, 416);

  json after = WaitForText(id);
  EXPECT_EQ(after["text"]["state"], "not_searchable");
  EXPECT_EQ(after["text"]["error"]["code"], "unsupported_type");

  // Listed for the client, and for nobody's meeting.
  auto list = s_->Get("/api/clients/" + *client_ + "/documents", Bearer(a_->api_key)).json();
  bool found = false;
  for (auto& d : list["data"]) found = found || d["id"] == id;
  EXPECT_TRUE(found);
  EXPECT_EQ(Sql("SELECT count(*) FROM audit_log WHERE action = 'document.created' AND object_id "
                "= '" +
                id + "'"),
            "1\n");
}

TEST_F(Documents, ExtractedTextIsSearchableByPageWithAccentsFolded) {
  std::string docx = Docx(
      "<w:p><w:r><w:t>Convention d'honoraires</w:t></w:r></w:p>"
      "<w:p><w:r><w:br w:type=\"page\"/><w:t>Les honoraires réglés par Hélène "
      "Zéphyrine</w:t></w:r></w:p>");
  auto r = Upload("/api/meetings/" + *meeting_ + "/documents", docx, "convention.docx", a_->api_key,
                  {{"name", "Convention 2026"}});
  ASSERT_EQ(r.status, 201) << r.body;
  json doc = r.json();
  EXPECT_EQ(doc["meeting_id"], *meeting_);
  EXPECT_EQ(doc["client_id"], *client_);
  EXPECT_EQ(doc["content_type"],
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  json done = WaitForText(doc["id"]);
  ASSERT_EQ(done["text"]["state"], "searchable") << done.dump();
  EXPECT_EQ(done["text"]["pages"], 2);

  auto hits = s_->Get("/api/search?q=zephyrine%20REGLES", Bearer(a_->api_key)).json();
  ASSERT_EQ(hits["data"].size(), 1u) << hits.dump();
  json hit = hits["data"][0];
  EXPECT_EQ(hit["type"], "document");
  EXPECT_EQ(hit["document"]["id"], doc["id"]);
  EXPECT_EQ(hit["document"]["name"], "Convention 2026");
  EXPECT_EQ(hit["document"]["page"], 2);
  EXPECT_EQ(hit["meeting"]["id"], *meeting_);
  EXPECT_NE(hit["snippet"].get<std::string>().find("<mark>Zéphyrine</mark>"), std::string::npos);
  // Another firm finds nothing.
  auto other = s_->Get("/api/search?q=zephyrine", Bearer(b_->api_key)).json();
  EXPECT_TRUE(other["data"].empty());

  // A PDF: the page is pdftotext's.
  auto pdf =
      Upload("/api/clients/" + *client_ + "/documents",
             TinyPdf({"Bail commercial", "Clause resolutoire Quimperle"}), "bail.pdf", a_->api_key);
  ASSERT_EQ(pdf.status, 201) << pdf.body;
  ASSERT_EQ(WaitForText(pdf.json()["id"])["text"]["state"], "searchable");
  hits = s_->Get("/api/search?q=quimperl%C3%A9", Bearer(a_->api_key)).json();
  ASSERT_EQ(hits["data"].size(), 1u) << hits.dump();
  EXPECT_EQ(hits["data"][0]["document"]["page"], 2);
}

TEST_F(Documents, HostileArchivesAreRefusedAndNothingIsKept) {
  auto before_docs = FilesUnder(s_->data_dir() + "/documents").size();
  std::string rows_before = Sql("SELECT count(*) FROM documents");
  std::string bomb = Zip({{"[Content_Types].xml", "<Types/>"}, {"word/document.xml", "@zeros"}});
  ASSERT_LT(bomb.size(), 100'000u);
  auto r = Upload("/api/clients/" + *client_ + "/documents", bomb, "bombe.docx", a_->api_key);
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "hostile_file");

  std::string traversal = Zip({{"[Content_Types].xml", "<Types/>"}, {"../../evil.sh", "rm -rf"}});
  r = Upload("/api/clients/" + *client_ + "/documents", traversal, "x.docx", a_->api_key);
  EXPECT_EQ(r.status, 415) << r.body;
  EXPECT_EQ(r.json()["error"]["code"], "hostile_file");

  EXPECT_EQ(FilesUnder(s_->data_dir() + "/documents").size(), before_docs);
  EXPECT_TRUE(FilesUnder(s_->data_dir() + "/tmp").empty());
  EXPECT_EQ(Sql("SELECT count(*) FROM documents"), rows_before);
  EXPECT_FALSE(fs::exists(s_->data_dir() + "/evil.sh"));
}

TEST_F(Documents, UnreadableFilesAreKeptAsNotSearchableAndEntitiesStayUnexpanded) {
  auto bad = Upload("/api/clients/" + *client_ + "/documents",
                    "%PDF-1.7\n" + std::string(4000, '\x07'), "abime.pdf", a_->api_key);
  ASSERT_EQ(bad.status, 201) << bad.body;
  json doc = WaitForText(bad.json()["id"]);
  EXPECT_EQ(doc["text"]["state"], "not_searchable");
  EXPECT_EQ(doc["text"]["error"]["code"], "unreadable_pdf");
  EXPECT_FALSE(doc["text"]["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(
      s_->Get("/api/documents/" + doc["id"].get<std::string>() + "/download", Bearer(a_->api_key))
          .status,
      200);

  // XXE: pugixml neither reads the SYSTEM entity nor expands declared ones.
  std::string xxe = Docx("<w:p><w:r><w:t>Bordereau &xxe; Ysolde</w:t></w:r></w:p>",
                         "<!DOCTYPE w:document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>");
  auto r = Upload("/api/clients/" + *client_ + "/documents", xxe, "xxe.docx", a_->api_key);
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(WaitForText(r.json()["id"])["text"]["state"], "searchable");
  EXPECT_EQ(s_->Get("/api/search?q=ysolde", Bearer(a_->api_key)).json()["data"].size(), 1u);
  EXPECT_TRUE(s_->Get("/api/search?q=nologin", Bearer(a_->api_key)).json()["data"].empty());

  // The worker is still alive: a later document is processed.
  auto txt = Upload("/api/clients/" + *client_ + "/documents", "Note : rappeler Maître Ombeline\n",
                    "note.txt", a_->api_key);
  ASSERT_EQ(txt.status, 201);
  EXPECT_EQ(WaitForText(txt.json()["id"])["text"]["state"], "searchable");
}

TEST_F(Documents, RenameReplaceVersionsAndDelete) {
  auto h = Bearer(a_->api_key);
  auto r = Upload("/api/clients/" + *client_ + "/documents", "version une: Aubépine\n", "v.txt",
                  a_->api_key);
  ASSERT_EQ(r.status, 201);
  std::string id = r.json()["id"];
  WaitForText(id);
  auto renamed = s_->Call("PATCH", "/api/documents/" + id, {{"name", "Relevé final.txt"}}, h);
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(renamed.json()["name"], "Relevé final.txt");
  // The client's timeline shows it under its current name, with its download link.
  bool on_timeline = false;
  const json timeline = s_->Get("/api/clients/" + *client_ + "/timeline", h).json();
  for (auto& item : timeline["data"])
    if (item["type"] == "document" && item["id"] == id)
      on_timeline = item["title"] == "Relevé final.txt" &&
                    item["download_url"] == "/api/documents/" + id + "/download";
  EXPECT_TRUE(on_timeline);
  int64_t version = renamed.json()["version"];
  EXPECT_EQ(s_->Call("PATCH", "/api/documents/" + id, {{"name", "x"}, {"version", version - 1}}, h)
                .status,
            409);
  EXPECT_EQ(s_->Call("PATCH", "/api/documents/" + id, {{"name", ""}}, h).status, 422);
  EXPECT_EQ(s_->Call("PATCH", "/api/documents/" + id, {{"title", "x"}}, h).status, 422);

  auto v2 = Upload("/api/documents/" + id + "/versions", "version deux: Bergamote\n", "v2.txt",
                   a_->api_key, {}, {{"If-Match", "\"" + std::to_string(version) + "\""}});
  ASSERT_EQ(v2.status, 201) << v2.body;
  EXPECT_EQ(v2.json()["current_version"], 2);
  EXPECT_EQ(v2.json()["name"], "Relevé final.txt");
  auto stale = Upload("/api/documents/" + id + "/versions", "trois", "v3.txt", a_->api_key, {},
                      {{"If-Match", "\"" + std::to_string(version) + "\""}});
  EXPECT_EQ(stale.status, 409);
  ASSERT_EQ(WaitForText(id)["text"]["state"], "searchable");
  // The index follows the current version only.
  EXPECT_EQ(s_->Get("/api/search?q=bergamote", h).json()["data"].size(), 1u);
  EXPECT_TRUE(s_->Get("/api/search?q=aubepine", h).json()["data"].empty());

  auto versions = s_->Get("/api/documents/" + id + "/versions", h).json()["data"];
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0]["number"], 2);
  EXPECT_EQ(versions[1]["original_name"], "v.txt");
  EXPECT_EQ(s_->Get("/api/documents/" + id + "/versions/1/download", h).body,
            "version une: Aubépine\n");
  EXPECT_EQ(s_->Get("/api/documents/" + id + "/download", h).body, "version deux: Bergamote\n");
  EXPECT_EQ(s_->Get("/api/documents/" + id + "/versions/7/download", h).status, 404);

  // Members cannot delete; admins can, and every version's file goes.
  EXPECT_EQ(s_->Call("DELETE", "/api/documents/" + id, nullptr, Bearer(a_->member_api_key)).status,
            403);
  EXPECT_EQ(s_->Call("DELETE", "/api/documents/" + id, nullptr, h).status, 204);
  EXPECT_EQ(s_->Get("/api/documents/" + id, h).status, 404);
  EXPECT_FALSE(fs::exists(s_->data_dir() + "/documents/" + a_->id + "/" + id + "/1"));
  EXPECT_FALSE(fs::exists(s_->data_dir() + "/documents/" + a_->id + "/" + id + "/2"));
  EXPECT_TRUE(s_->Get("/api/search?q=bergamote", h).json()["data"].empty());
  EXPECT_EQ(Sql("SELECT count(*) FROM audit_log WHERE object_id = '" + id +
                "' AND action IN ('document.renamed', 'document.version_added', "
                "'document.deleted')"),
            "3\n");
}

TEST_F(Documents, LimitsAndBadRequests) {
  auto big = Upload("/api/clients/" + *client_ + "/documents", std::string(2'000'001, 'a'),
                    "big.txt", a_->api_key);
  EXPECT_EQ(big.status, 413);
  auto empty = Upload("/api/clients/" + *client_ + "/documents", "", "vide.txt", a_->api_key);
  EXPECT_EQ(empty.status, 422);
  auto raw =
      Send(s_->port(),
           {"POST",
            "/api/clients/" + *client_ + "/documents",
            "abc",
            {{"Authorization", "Bearer " + a_->api_key}, {"Content-Type", "application/pdf"}}});
  EXPECT_EQ(raw.status, 415);
  EXPECT_TRUE(FilesUnder(s_->data_dir() + "/tmp").empty());
}

TEST_F(Documents, AnotherFirmsDocumentsAnswer404) {
  auto r =
      Upload("/api/clients/" + *client_ + "/documents", "Confidentiel\n", "c.txt", a_->api_key);
  ASSERT_EQ(r.status, 201);
  std::string id = r.json()["id"];
  auto hb = Bearer(b_->api_key);
  EXPECT_EQ(s_->Get("/api/documents/" + id, hb).status, 404);
  EXPECT_EQ(s_->Get("/api/documents/" + id + "/download", hb).status, 404);
  EXPECT_EQ(s_->Get("/api/documents/" + id + "/versions", hb).status, 404);
  EXPECT_EQ(s_->Get("/api/documents/" + id + "/versions/1/download", hb).status, 404);
  // 404 comes before the body's problems and before a stale version.
  EXPECT_EQ(s_->Call("PATCH", "/api/documents/" + id, {{"bogus", 1}, {"version", 0}}, hb).status,
            404);
  EXPECT_EQ(s_->Call("DELETE", "/api/documents/" + id, nullptr, hb).status, 404);
  EXPECT_EQ(Upload("/api/clients/" + *client_ + "/documents", "x", "x.txt", b_->api_key).status,
            404);
  EXPECT_EQ(Upload("/api/meetings/" + *meeting_ + "/documents", "x", "x.txt", b_->api_key).status,
            404);
  EXPECT_EQ(Upload("/api/documents/" + id + "/versions", "x", "x.txt", b_->api_key).status, 404);
  EXPECT_EQ(s_->Get("/api/clients/" + *client_ + "/documents", hb).status, 404);
  for (auto& d : s_->Get("/api/documents", hb).json()["data"]) EXPECT_NE(d["id"], id);
  EXPECT_EQ(s_->Get("/api/documents/" + id, Bearer(a_->api_key)).status, 200);
}

TEST_F(Documents, RoutesAreInTheOpenApiDocument) {
  json api = s_->Get("/api/openapi.json").json();
  for (const char* p :
       {"/api/clients/{id}/documents", "/api/meetings/{id}/documents", "/api/documents",
        "/api/documents/{id}", "/api/documents/{id}/download", "/api/documents/{id}/versions",
        "/api/documents/{id}/versions/{number}/download"})
    EXPECT_TRUE(api["paths"].contains(p)) << p;
  EXPECT_TRUE(api["paths"]["/api/clients/{id}/documents"].contains("post"));
}

}  // namespace
}  // namespace crm::testing
