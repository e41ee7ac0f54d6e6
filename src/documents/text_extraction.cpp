#include "documents/text_extraction.h"

#include <pugixml.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/ids.h"
#include "common/text.h"
#include "documents/sniff.h"
#include "documents/subprocess.h"

namespace crm::documents {

namespace {

TextFailure Failure(std::string code, std::string fr, std::string en) {
  return TextFailure{std::move(code), fr + " / " + en};
}

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  auto colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

// Replaces bytes that are not UTF-8 with U+FFFD so what is stored is always valid text.
std::string ValidUtf8(const std::string& s) {
  if (IsValidUtf8(s)) return s;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
    if (n > 0 && i + n <= s.size() && IsValidUtf8(std::string_view(s).substr(i, n))) {
      out.append(s, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Pages from text whose pages are separated by form feeds; blank pages keep their number.
std::vector<DocumentPage> SplitPages(const std::string& text, int64_t max_bytes) {
  std::vector<DocumentPage> pages;
  std::string clean = ValidUtf8(text.size() > static_cast<size_t>(max_bytes)
                                    ? text.substr(0, static_cast<size_t>(max_bytes))
                                    : text);
  size_t start = 0;
  int number = 1;
  while (start <= clean.size()) {
    size_t end = clean.find('\f', start);
    if (end == std::string::npos) end = clean.size();
    std::string page = Trim(std::string_view(clean).substr(start, end - start));
    if (!page.empty()) pages.push_back({number, std::move(page)});
    ++number;
    start = end + 1;
  }
  return pages;
}

Result<pugi::xml_document> ParseXml(const std::string& xml) {
  pugi::xml_document doc;
  // parse_default has no parse_doctype: a DOCTYPE and its entity declarations are skipped, and
  // only the five predefined and numeric character references are decoded; "&xxe;" stays text.
  pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default);
  if (!r) return Error(ErrorCode::kCorrupt, std::string("XML: ") + r.description());
  return doc;
}

struct DocxWalker : pugi::xml_tree_walker {
  std::string out;
  bool for_each(pugi::xml_node& node) override {
    if (node.type() == pugi::node_pcdata) {
      if (LocalName(node.parent().name()) == "t") out += node.value();
      return true;
    }
    if (node.type() != pugi::node_element) return true;
    std::string_view n = LocalName(node.name());
    if (n == "p") {
      if (!out.empty() && out.back() != '\f') out += '\n';
    } else if (n == "tab") {
      out += '\t';
    } else if (n == "br") {
      out += std::string_view(node.attribute("w:type").value()) == "page" ? '\f' : '\n';
    } else if (n == "lastRenderedPageBreak") {
      out += '\f';
    }
    return true;
  }
};

struct OdtWalker : pugi::xml_tree_walker {
  std::string out;
  bool for_each(pugi::xml_node& node) override {
    if (node.type() == pugi::node_pcdata) {
      out += node.value();
      return true;
    }
    if (node.type() != pugi::node_element) return true;
    std::string_view n = LocalName(node.name());
    if (n == "p" || n == "h") {
      if (!out.empty() && out.back() != '\f') out += '\n';
    } else if (n == "s") {
      int count = node.attribute("text:c").as_int(1);
      out.append(static_cast<size_t>(std::clamp(count, 1, 100)), ' ');
    } else if (n == "tab") {
      out += '\t';
    } else if (n == "line-break") {
      out += '\n';
    } else if (n == "soft-page-break") {
      out += '\f';
    }
    return true;
  }
};

Result<Extraction> FromArchive(const std::string& path, const std::string& member, bool docx,
                               const ExtractionOptions& o) {
  auto zip = SafeZip::Open(path, o.zip);
  if (!zip.ok()) {
    if (zip.error().api_code == "hostile_file")
      return Extraction(Failure("hostile_archive",
                                "L'archive dépasse les limites de sécurité ; son texte n'est pas "
                                "lu",
                                "The archive exceeds the safety limits; its text is not read"));
    return Extraction(Failure("unreadable_archive", "Le fichier est endommagé",
                              "The file is damaged"));
  }
  auto xml = (*zip)->Read(member);
  if (!xml.ok()) {
    if (xml.error().api_code == "hostile_file")
      return Extraction(Failure("hostile_archive",
                                "L'archive se décompresse au-delà des limites de sécurité",
                                "The archive inflates beyond the safety limits"));
    return Extraction(
        Failure("unreadable_archive", "Le fichier est endommagé", "The file is damaged"));
  }
  auto text = docx ? DocxXmlText(*xml) : OdtXmlText(*xml);
  if (!text.ok())
    return Extraction(Failure("unreadable_xml", "Le contenu du document est illisible",
                              "The document's content cannot be read"));
  auto pages = SplitPages(*text, o.max_text_bytes);
  if (pages.empty())
    return Extraction(Failure("no_text", "Le document ne contient pas de texte",
                              "The document holds no text"));
  return Extraction(std::move(pages));
}

std::string ReadSmallFile(const std::string& path, size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::string s(max, '\0');
  in.read(s.data(), static_cast<std::streamsize>(max));
  s.resize(static_cast<size_t>(in.gcount()));
  return s;
}

Result<Extraction> FromPdf(const std::string& path, const ExtractionOptions& o) {
  std::string base = o.tmp_dir + "/pdftext-" + RandomHex(8);
  std::string out_txt = base + ".txt", err_txt = base + ".err";
  struct Cleanup {
    std::string a, b;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove(a, ec);
      std::filesystem::remove(b, ec);
    }
  } cleanup{out_txt, err_txt};
  ProcessOptions po;
  po.timeout = o.pdf_timeout;
  po.stderr_path = err_txt;
  po.max_address_space_bytes = o.pdf_max_memory_bytes;
  po.cancelled = o.cancelled;
  auto run = RunProcess({o.pdftotext, "-q", "-enc", "UTF-8", "-eol", "unix", path, out_txt}, po);
  if (!run.ok()) {
    if (run.error().code == ErrorCode::kCancelled) return run.take_error();
    if (run.error().code == ErrorCode::kTimeout)
      return Extraction(Failure("pdf_timeout", "La lecture du PDF a pris trop de temps",
                                "Reading the PDF took too long"));
    return run.take_error();  // pdftotext missing: retryable once the package is installed
  }
  if (run->exit_code != 0) {
    std::string err = ToLowerAscii(ReadSmallFile(err_txt, 4096));
    // pdftotext: 1 = cannot open (damaged, or a password), 3 = copying not permitted.
    if (err.find("password") != std::string::npos || run->exit_code == 3)
      return Extraction(Failure("encrypted_pdf", "Le PDF est protégé par un mot de passe",
                                "The PDF is password-protected"));
    return Extraction(Failure("unreadable_pdf", "Le PDF est endommagé ou n'est pas un PDF valide",
                              "The PDF is damaged or not a valid PDF"));
  }
  std::error_code ec;
  auto size = std::filesystem::file_size(out_txt, ec);
  if (ec) return IoError("pdftotext wrote no output");
  std::string text = ReadSmallFile(out_txt, std::min<uintmax_t>(size, o.max_text_bytes));
  auto pages = SplitPages(text, o.max_text_bytes);
  if (pages.empty())
    return Extraction(Failure("no_text",
                              "Le PDF ne contient pas de texte (document numérisé ?)",
                              "The PDF holds no text (a scanned document?)"));
  return Extraction(std::move(pages));
}

}  // namespace

Result<std::string> DocxXmlText(const std::string& document_xml) {
  CRM_ASSIGN_OR_RETURN(auto doc, ParseXml(document_xml));
  DocxWalker w;
  doc.traverse(w);
  return w.out;
}

Result<std::string> OdtXmlText(const std::string& content_xml) {
  CRM_ASSIGN_OR_RETURN(auto doc, ParseXml(content_xml));
  pugi::xml_node body = doc.child("office:document-content").child("office:body");
  OdtWalker w;
  (body ? body : doc.document_element()).traverse(w);
  return w.out;
}

Result<Extraction> ExtractText(const std::string& path, const std::string& content_type,
                               const ExtractionOptions& options) {
  if (content_type == kPdf) return FromPdf(path, options);
  if (content_type == kDocx) return FromArchive(path, "word/document.xml", true, options);
  if (content_type == kOdt) return FromArchive(path, "content.xml", false, options);
  if (content_type == kPlainText) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return IoError("document file missing");
    std::string text = ReadSmallFile(path, std::min<uintmax_t>(size, options.max_text_bytes));
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);
    auto pages = SplitPages(text, options.max_text_bytes);
    if (pages.empty())
      return Extraction(
          Failure("no_text", "Le fichier ne contient pas de texte", "The file holds no text"));
    return Extraction(std::move(pages));
  }
  return Extraction(Failure("unsupported_type",
                            "Le texte de ce type de fichier n'est pas lu (" + content_type + ")",
                            "Text is not read from this type of file (" + content_type + ")"));
}

}  // namespace crm::documents
