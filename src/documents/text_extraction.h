// Text extraction for search: the pages of a stored document as UTF-8 text.
//
// - PDF: poppler's pdftotext, run as a child process (documents/subprocess.h) with a timeout and
//   a memory limit, so a malformed or malicious PDF can at worst fail its own extraction; pages
//   are split on the form feeds pdftotext writes between them.
// - DOCX (word/document.xml) and ODT (content.xml): read from the archive with SafeZip (size and
//   ratio limits, no path ever written) and parsed with pugixml, which does not load external
//   entities or expand DOCTYPE-declared ones (no XXE, no billion laughs). Page breaks the editor
//   recorded (Word's lastRenderedPageBreak and explicit page breaks, ODF soft-page-break) cut
//   pages; a file without them is one page.
// - Plain UTF-8 text: one page per form feed.
// Anything else, or a file whose text cannot be read, is a TextFailure: the document stays
// stored and is marked not searchable with the reason.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "documents/document_store.h"
#include "documents/safe_zip.h"

namespace crm::documents {

struct ExtractionOptions {
  std::string tmp_dir;                        // DATA_DIR/tmp: pdftotext's output file
  std::string pdftotext = "pdftotext";        // program (PATH lookup)
  std::chrono::milliseconds pdf_timeout{60'000};
  int64_t pdf_max_memory_bytes = 1LL << 30;   // address space of pdftotext
  int64_t max_text_bytes = 32 << 20;          // extracted text kept per document
  ZipLimits zip;
  std::function<bool()> cancelled;
};

// Pages, or why there are none. An Error is returned only for what may succeed on a retry (the
// file could not be read from disk, the job was cancelled).
using Extraction = std::variant<std::vector<DocumentPage>, TextFailure>;
Result<Extraction> ExtractText(const std::string& path, const std::string& content_type,
                               const ExtractionOptions& options);

// The XML parts alone, for tests and the DOCX template engine: paragraphs separated by '\n',
// pages by '\f'.
Result<std::string> DocxXmlText(const std::string& document_xml);
Result<std::string> OdtXmlText(const std::string& content_xml);

}  // namespace crm::documents
