// Documents without a server: hostile archives (bombs, traversal, entities), type sniffing from
// the bytes, text of DOCX/ODT/PDF/plain files by page, and the converter process limits.
#include <gtest/gtest.h>
#include <zip.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "common/ids.h"
#include "documents/safe_zip.h"
#include "documents/sniff.h"
#include "documents/subprocess.h"
#include "documents/text_extraction.h"

namespace crm::documents {
namespace {

namespace fs = std::filesystem;

class DocumentsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitCrypto();
    dir_ = (fs::temp_directory_path() / ("crm-docs-" + RandomHex(6))).string();
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Write(const std::string& name, const std::string& bytes) const {
    std::ofstream(Path(name), std::ios::binary) << bytes;
    return Path(name);
  }
  // A ZIP archive with the given members (deflated), written with libzip.
  std::string Zip(const std::string& name,
                  const std::vector<std::pair<std::string, std::string>>& members) const {
    int err = 0;
    zip_t* z = zip_open(Path(name).c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    for (const auto& [n, data] : members) {
      void* copy = malloc(data.size() + 1);
      memcpy(copy, data.data(), data.size());
      zip_source_t* src = zip_source_buffer(z, copy, data.size(), 1);
      zip_int64_t idx = zip_file_add(z, n.c_str(), src, ZIP_FL_ENC_UTF_8);
      EXPECT_GE(idx, 0) << zip_strerror(z);
    }
    EXPECT_EQ(zip_close(z), 0);
    return Path(name);
  }
  std::string dir_;
};

std::string DocumentXml(const std::string& body, const std::string& prolog = "") {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>" + prolog +
         "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">"
         "<w:body>" +
         body + "</w:body></w:document>";
}

std::string Para(const std::string& text) { return "<w:p><w:r><w:t>" + text + "</w:t></w:r></w:p>"; }

// A small valid PDF with one line of text per page (Helvetica, WinAnsi), offsets computed.
std::string TinyPdf(const std::vector<std::string>& pages) {
  std::vector<std::string> objs;
  std::string kids;
  int n = static_cast<int>(pages.size());
  objs.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  for (int i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objs.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  objs.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (int i = 0; i < n; ++i) {
    std::string content = "BT /F1 12 Tf 72 720 Td (" + pages[i] + ") Tj ET";
    objs.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << "
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

ExtractionOptions Options(const std::string& tmp) {
  ExtractionOptions o;
  o.tmp_dir = tmp;
  return o;
}

TEST_F(DocumentsTest, RefusesArchiveMembersThatEscapeTheirFolder) {
  for (const std::string bad : {"../../etc/cron.d/x", "/etc/passwd", "word/../../x", "a\\..\\b"}) {
    std::string path = Zip("t.zip", {{"[Content_Types].xml", "<x/>"}, {bad, "x"}});
    auto z = SafeZip::Open(path);
    ASSERT_FALSE(z.ok()) << bad;
    EXPECT_EQ(z.error().api_code, "hostile_file");
    EXPECT_NE(z.error().details["reason"].get<std::string>().find("path_traversal"),
              std::string::npos);
  }
}

TEST_F(DocumentsTest, RefusesZipBombsByRatioAndBySize) {
  // 16 MiB of zeros deflate to ~16 KiB: a ratio near 1000.
  std::string path = Zip("bomb.docx", {{"[Content_Types].xml", "<x/>"},
                                       {"word/document.xml", std::string(16 << 20, '\0')}});
  EXPECT_LT(fs::file_size(path), 100'000u);
  auto z = SafeZip::Open(path);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.error().api_code, "hostile_file");
  auto sniffed = SniffFile(path);
  ASSERT_FALSE(sniffed.ok());
  EXPECT_EQ(sniffed.error().api_code, "hostile_file");

  // Incompressible bytes over the size limit.
  std::string noise;
  for (int i = 0; i < 3 << 20; ++i) noise += static_cast<char>((i * 2654435761u) >> 13);
  path = Zip("big.zip", {{"a.bin", noise}});
  ZipLimits small;
  small.max_entry_bytes = 1 << 20;
  EXPECT_FALSE(SafeZip::Open(path, small).ok());
  small.max_entry_bytes = 64 << 20;
  small.max_total_bytes = 2 << 20;
  EXPECT_FALSE(SafeZip::Open(path, small).ok());
  EXPECT_TRUE(SafeZip::Open(path).ok());
}

TEST_F(DocumentsTest, LimitsHoldWhileInflatingEvenWhenDeclaredSizesLie) {
  std::string path = Zip("lie.zip", {{"m.xml", std::string(4 << 20, 'a')}});
  // Patch the declared uncompressed size (central directory, offset 24 of its record) to 10.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t cd = bytes.rfind(std::string("PK\x01\x02", 4));
  ASSERT_NE(cd, std::string::npos);
  uint32_t ten = 10;
  memcpy(&bytes[cd + 24], &ten, 4);
  size_t local = bytes.find(std::string("PK\x03\x04", 4));
  memcpy(&bytes[local + 22], &ten, 4);
  Write("lie.zip", bytes);
  auto z = SafeZip::Open(path);
  if (!z.ok()) {
    // libzip itself noticed the inconsistency: refused either way.
    SUCCEED();
    return;
  }
  auto content = (*z)->Read("m.xml");
  EXPECT_FALSE(content.ok() && content->size() > 10);
}

TEST_F(DocumentsTest, SniffsTypesFromTheBytesNotTheName) {
  std::string docx = Zip("x.pdf", {{"[Content_Types].xml", "<x/>"},
                                   {"word/document.xml", DocumentXml(Para("Bonjour"))}});
  EXPECT_EQ(SniffFile(docx)->content_type, kDocx);
  std::string odt = Zip("x.txt", {{"mimetype", kOdt}, {"content.xml", "<x/>"}});
  EXPECT_EQ(SniffFile(odt)->content_type, kOdt);
  EXPECT_EQ(SniffFile(Write("a.docx", TinyPdf({"x"})))->content_type, kPdf);
  EXPECT_EQ(SniffFile(Write("b.pdf", "\x89PNG\r\n\x1A\n rest"))->content_type, "image/png");
  EXPECT_EQ(SniffFile(Write("c.bin", "Compte rendu : séance du 3 décembre\n"))->content_type,
            kPlainText);
  EXPECT_EQ(SniffFile(Write("d.html", "<script>alert(1)</script>"))->content_type, kPlainText);
  EXPECT_EQ(SniffFile(Write("e.exe", std::string("MZ\x90\0\x03\0", 6)))->content_type, kOctetStream);
  EXPECT_EQ(SniffFile(Write("f.zip", "PK\x03\x04garbage"))->content_type, "application/zip");
}

TEST_F(DocumentsTest, DocxTextKeepsParagraphsAndSplitsRecordedPages) {
  auto text = DocxXmlText(DocumentXml(
      Para("Convention d'honoraires") +
      "<w:p><w:r><w:t xml:space=\"preserve\">Article </w:t></w:r><w:r><w:t>1</w:t></w:r></w:p>"
      "<w:p><w:r><w:br w:type=\"page\"/><w:t>Honoraires réglés</w:t></w:r></w:p>"
      "<w:p><w:r><w:instrText>PAGE</w:instrText><w:t>fin</w:t></w:r></w:p>"));
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "Convention d'honoraires\nArticle 1\n\fHonoraires réglés\nfin");
}

TEST_F(DocumentsTest, XmlExternalEntitiesAreNeitherLoadedNorExpanded) {
  // pugixml has no entity support beyond the predefined and numeric ones, and parse_default
  // skips the DOCTYPE: neither the file nor the billion laughs reach the text.
  std::string prolog =
      "<!DOCTYPE w:document [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">"
      "<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>";
  std::string path = Zip("xxe.docx", {{"[Content_Types].xml", "<x/>"},
                                      {"word/document.xml",
                                       DocumentXml(Para("Secret &xxe; &b; fin"), prolog)}});
  auto out = ExtractText(path, kDocx, Options(dir_));
  ASSERT_TRUE(out.ok());
  auto* pages = std::get_if<std::vector<DocumentPage>>(&*out);
  ASSERT_NE(pages, nullptr);
  ASSERT_EQ(pages->size(), 1u);
  EXPECT_EQ(pages->at(0).text.find("root:"), std::string::npos);
  EXPECT_EQ(pages->at(0).text.find("aaaaaaaaaa"), std::string::npos);
  EXPECT_NE(pages->at(0).text.find("Secret"), std::string::npos);
}

TEST_F(DocumentsTest, OdtTextWithSoftPageBreaks) {
  std::string xml =
      "<?xml version=\"1.0\"?><office:document-content "
      "xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "
      "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>"
      "<text:h>Procès-verbal</text:h><text:p>Première<text:s text:c=\"2\"/>page</text:p>"
      "<text:soft-page-break/><text:p>Deuxième page</text:p></office:text></office:body>"
      "</office:document-content>";
  std::string path = Zip("pv.odt", {{"mimetype", kOdt}, {"content.xml", xml}});
  auto out = ExtractText(path, kOdt, Options(dir_));
  ASSERT_TRUE(out.ok());
  auto& pages = std::get<std::vector<DocumentPage>>(*out);
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0].text, "Procès-verbal\nPremière  page");
  EXPECT_EQ(pages[1].page, 2);
  EXPECT_EQ(pages[1].text, "Deuxième page");
}

TEST_F(DocumentsTest, PdfTextByPage) {
  std::string path = Write("two.pdf", TinyPdf({"Premiere page du bail", "Clause resolutoire"}));
  auto out = ExtractText(path, kPdf, Options(dir_));
  ASSERT_TRUE(out.ok()) << out.error().message;
  auto* pages = std::get_if<std::vector<DocumentPage>>(&*out);
  ASSERT_NE(pages, nullptr) << std::get<TextFailure>(*out).message;
  ASSERT_EQ(pages->size(), 2u);
  EXPECT_EQ(pages->at(1).page, 2);
  EXPECT_EQ(pages->at(1).text, "Clause resolutoire");
  // Nothing of pdftotext's output is left behind.
  for (auto& e : fs::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().rfind("pdftext-", 0), std::string::npos);
}

TEST_F(DocumentsTest, MalformedAndTextlessFilesAreNotSearchableWithAReason) {
  auto junk = ExtractText(Write("junk.pdf", "%PDF-1.7\n" + std::string(5000, '\x07')), kPdf,
                          Options(dir_));
  ASSERT_TRUE(junk.ok());
  ASSERT_TRUE(std::holds_alternative<TextFailure>(*junk));
  EXPECT_EQ(std::get<TextFailure>(*junk).code, "unreadable_pdf");

  auto blank = ExtractText(Write("blank.pdf", TinyPdf({""})), kPdf, Options(dir_));
  ASSERT_TRUE(blank.ok());
  EXPECT_EQ(std::get<TextFailure>(*blank).code, "no_text");

  auto broken = ExtractText(Zip("b.docx", {{"word/document.xml", "<w:document><w:body>"}}), kDocx,
                            Options(dir_));
  ASSERT_TRUE(broken.ok());
  EXPECT_EQ(std::get<TextFailure>(*broken).code, "unreadable_xml");

  auto image = ExtractText(Write("i.png", "\x89PNG"), "image/png", Options(dir_));
  EXPECT_EQ(std::get<TextFailure>(*image).code, "unsupported_type");
}

TEST_F(DocumentsTest, ConverterProcessIsKilledAtItsDeadline) {
  ProcessOptions po;
  po.timeout = std::chrono::milliseconds(300);
  auto start = std::chrono::steady_clock::now();
  // The shell's child (sleep) is in the same process group: both are killed.
  auto r = RunProcess({"/bin/sh", "-c", "sleep 30 & wait"}, po);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTimeout);
  EXPECT_LT(took, std::chrono::seconds(5));

  auto ok = RunProcess({"sh", "-c", "echo bonjour"}, {.stdout_path = Path("out.txt")});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->exit_code, 0);
  std::ifstream in(Path("out.txt"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "bonjour");

  auto crash = RunProcess({"sh", "-c", "kill -SEGV $$"}, {});
  ASSERT_TRUE(crash.ok());
  EXPECT_EQ(crash->signal, SIGSEGV);
  EXPECT_FALSE(RunProcess({"no-such-converter-xyz"}, {}).ok());
}

}  // namespace
}  // namespace crm::documents
