// DOCX from templates: placeholders split across Word's runs, loops over paragraphs, table rows
// and inline text, escaping; the default report template filled and converted by a real headless
// LibreOffice, its PDF read back with pdftotext; the converter killed at its deadline.
#include <gtest/gtest.h>
#include <zip.h>

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <pugixml.hpp>

#include "common/ids.h"
#include "documents/docx_template.h"
#include "documents/pdf_converter.h"
#include "documents/report.h"
#include "documents/safe_zip.h"

namespace crm::documents {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Docx : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCrypto();
    dir_ = (fs::temp_directory_path() / ("crm-docx-" + RandomHex(6))).string();
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Path(const std::string& n) const { return dir_ + "/" + n; }
  std::string DocumentXmlOf(const std::string& docx) {
    auto z = SafeZip::Open(docx);
    EXPECT_TRUE(z.ok());
    auto x = (*z)->Read("word/document.xml");
    EXPECT_TRUE(x.ok());
    return *x;
  }
  std::string Pdftotext(const std::string& pdf) {
    std::string out = pdf + ".txt";
    EXPECT_EQ(std::system(("pdftotext -enc UTF-8 " + pdf + " " + out).c_str()), 0);
    std::ifstream in(out);
    std::string text(std::istreambuf_iterator<char>(in), {}), flat;
    // Table cells wrap: compare with every run of white space as one space.
    for (char c : text)
      if (!std::isspace(static_cast<unsigned char>(c)) || (!flat.empty() && flat.back() != ' '))
        flat += std::isspace(static_cast<unsigned char>(c)) ? ' ' : c;
    return flat;
  }
  std::string dir_;
};

json Context() {
  return {{"title", "Compte rendu — Succession"},
          {"header",
           {{"firm", "Cabinet Dupont & Associés"},
            {"client", "Hélène <Lefèvre>"},
            {"date", "2026-12-01T09:00:00Z"},
            {"participants", {"Maître Dupont", "Hélène Lefèvre"}}}},
          {"summary", {{{"text", "La maison de Quimper est contestée."}, {"start", 12.0}}}},
          {"decisions", json::array()},
          {"actions",
           {{{"who", "Maître Dupont"}, {"what", "Envoyer la lettre au notaire"},
             {"due_date", "2026-12-15"}, {"start", 30.0}},
            {{"who", "Hélène Lefèvre"}, {"what", "Retrouver l'acte de donation"},
             {"due_text", "bientôt"}, {"start", 42.0}}}},
          {"excerpts", {{{"text", "Mon frère conteste."}, {"speaker", "Hélène"}, {"start", 75.5}}}}};
}

TEST_F(Docx, TextRendererHandlesValuesLoopsInvertedAndMissing) {
  json c = Context();
  EXPECT_EQ(RenderText("{{header.client}} le {{missing.x}}!", c), "Hélène <Lefèvre> le !");
  EXPECT_EQ(RenderText("{{#header.participants}}[{{.}}]{{/header.participants}}", c),
            "[Maître Dupont][Hélène Lefèvre]");
  EXPECT_EQ(RenderText("{{#actions}}{{who}}: {{what}}; {{/actions}}", c),
            "Maître Dupont: Envoyer la lettre au notaire; Hélène Lefèvre: Retrouver l'acte de "
            "donation; ");
  EXPECT_EQ(RenderText("{{^decisions}}aucune{{/decisions}}{{#decisions}}x{{/decisions}}", c),
            "aucune");
  EXPECT_EQ(RenderText("{{#actions}}{{title}}{{/actions}}", c), "Compte rendu — SuccessionCompte "
                                                                "rendu — Succession");
  EXPECT_EQ(RenderText("sans fin {{#actions}} x", c), "sans fin  x");
}

TEST_F(Docx, PlaceholdersSplitAcrossRunsAndRepeatedRowsAreFilled) {
  // A template as Word saves it: the placeholder in three runs, a repeated table row.
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document "
      "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>"
      "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Client : {{cli</w:t></w:r><w:proofErr "
      "w:type=\"spellStart\"/><w:r><w:t>ent.na</w:t></w:r><w:r><w:t>me}}</w:t></w:r></w:p>"
      "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>{{#actions}}{{who}}</w:t></w:r></w:p></w:tc><w:tc><w:p>"
      "<w:r><w:t>{{what}}{{/actions}}</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
      "<w:p><w:r><w:t>{{#people}}</w:t></w:r></w:p><w:p><w:r><w:t>- {{.}}</w:t></w:r></w:p>"
      "<w:p><w:r><w:t>{{/people}}</w:t></w:r></w:p><w:sectPr/></w:body></w:document>";
  std::string tpl = Path("firm.docx");
  {
    int err;
    zip_t* z = zip_open(tpl.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    auto add = [&](const char* name, const std::string& data) {
      void* copy = malloc(data.size());
      memcpy(copy, data.data(), data.size());
      zip_file_add(z, name, zip_source_buffer(z, copy, data.size(), 1), 0);
    };
    add("[Content_Types].xml", "<Types/>");
    add("word/document.xml", xml);
    add("word/media/logo.png", "\x89PNG-logo");
    ASSERT_EQ(zip_close(z), 0);
  }
  json c = {{"client", {{"name", "Société <Martin> & fils"}}},
            {"actions", {{{"who", "A"}, {"what", "un"}}, {{"who", "B"}, {"what", "deux"}}}},
            {"people", {"Paul", "Inès"}}};
  ASSERT_TRUE(RenderDocx(tpl, c, Path("out.docx")).ok());
  std::string out = DocumentXmlOf(Path("out.docx"));
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(out.c_str()));  // still well-formed XML
  EXPECT_NE(out.find("Client : Société &lt;Martin&gt; &amp; fils"), std::string::npos) << out;
  EXPECT_NE(out.find("<w:b"), std::string::npos);  // the first run's formatting stays
  EXPECT_EQ(out.find("{{"), std::string::npos) << out;
  EXPECT_EQ(doc.select_nodes("//w:tr").size(), 2u);
  EXPECT_NE(out.find(">B<"), std::string::npos);
  EXPECT_NE(out.find(">deux<"), std::string::npos);
  EXPECT_NE(out.find("- Inès"), std::string::npos);
  // The archive's other members are copied unchanged.
  auto z = SafeZip::Open(Path("out.docx"));
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(*(*z)->Read("word/media/logo.png"), "\x89PNG-logo");
}

TEST_F(Docx, RefusesTemplatesThatAreNotWordDocuments) {
  std::ofstream(Path("x.docx")) << "plain text";
  auto st = RenderDocx(Path("x.docx"), json::object(), Path("o.docx"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Path("o.docx")));
}

TEST_F(Docx, DefaultReportOpensInLibreOfficeAndReadsBackAsPdf) {
  ASSERT_TRUE(WriteDefaultReportTemplate(Path("report.docx")).ok());
  ASSERT_TRUE(RenderDocx(Path("report.docx"), ReportTemplateContext(Context()), Path("cr.docx")).ok());
  PdfOptions po;
  po.tmp_dir = dir_;
  auto st = ConvertToPdf(Path("cr.docx"), Path("cr.pdf"), po);
  ASSERT_TRUE(st.ok()) << st.error().message;
  std::string text = Pdftotext(Path("cr.pdf"));
  for (const char* want : {"Compte rendu", "Cabinet Dupont & Associés", "Hélène <Lefèvre>",
                           "1er décembre 2026", "Maître Dupont, Hélène Lefèvre",
                           "Envoyer la lettre au notaire", "15 décembre 2026", "bientôt",
                           "Aucune décision relevée", "[01:15] Hélène", "Quimper"})
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  // The per-conversion profile and output directory are gone.
  for (auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().rfind("lo-", 0), std::string::npos);
}

TEST_F(Docx, ConverterIsKilledAtItsTimeout) {
  std::string fake = Path("slow-soffice");
  std::ofstream(fake) << "#!/bin/sh\nsleep 30\n";
  fs::permissions(fake, fs::perms::owner_all);
  ASSERT_TRUE(WriteDefaultTranscriptTemplate(Path("t.docx")).ok());
  PdfOptions po;
  po.tmp_dir = dir_;
  po.soffice = fake;
  po.timeout = std::chrono::milliseconds(500);
  auto start = std::chrono::steady_clock::now();
  auto st = ConvertToPdf(Path("t.docx"), Path("t.pdf"), po);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().api_code, "pdf_conversion_failed");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_FALSE(fs::exists(Path("t.pdf")));
}

// A Gotenberg stand-in on loopback speaking its API (multipart field "files" → application/pdf).
class GotenbergStandIn {
 public:
  explicit GotenbergStandIn(bool fail) {
    std::string src = std::getenv("CRM_SOURCE_DIR") ? std::getenv("CRM_SOURCE_DIR") : ".";
    std::string cmd = "/usr/bin/python3 " + src + "/tests/stand_ins/gotenberg_stand_in.py" +
                      (fail ? " --fail" : "") + " 2>/dev/null & echo PID $!";
    pipe_ = popen(cmd.c_str(), "r");
    char line[128];
    while (pipe_ && fgets(line, sizeof line, pipe_)) {
      if (sscanf(line, "PID %d", &pid_) == 1) continue;
      if (sscanf(line, "PORT %d", &port_) == 1) break;
    }
  }
  ~GotenbergStandIn() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    if (pipe_) pclose(pipe_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  FILE* pipe_ = nullptr;
  int pid_ = 0, port_ = 0;
};

TEST_F(Docx, GotenbergConvertsThroughItsApiAndItsErrorsAreClear) {
  ASSERT_TRUE(WriteDefaultReportTemplate(Path("report.docx")).ok());
  ASSERT_TRUE(RenderDocx(Path("report.docx"), ReportTemplateContext(Context()), Path("cr.docx")).ok());
  {
    GotenbergStandIn g(false);
    PdfOptions po;
    po.converter = "gotenberg";
    po.gotenberg_url = g.url() + "/";
    po.tmp_dir = dir_;
    auto st = ConvertToPdf(Path("cr.docx"), Path("g.pdf"), po);
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_NE(Pdftotext(Path("g.pdf")).find("Envoyer la lettre au notaire"), std::string::npos);
  }
  GotenbergStandIn down(true);
  PdfOptions po;
  po.converter = "gotenberg";
  po.gotenberg_url = down.url();
  po.tmp_dir = dir_;
  auto st = ConvertToPdf(Path("cr.docx"), Path("bad.pdf"), po);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().api_code, "pdf_conversion_failed");
  EXPECT_NE(st.error().message.find("503"), std::string::npos);
  EXPECT_FALSE(fs::exists(Path("bad.pdf")));
  EXPECT_FALSE(fs::exists(Path("bad.pdf.part")));
}

}  // namespace
}  // namespace crm::documents
