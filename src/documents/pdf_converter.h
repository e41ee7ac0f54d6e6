// DOCX → PDF, by PDF_CONVERTER:
// - "libreoffice": a local headless soffice per conversion, isolated in its own directory under
//   DATA_DIR/tmp (its user profile, HOME and output there, removed afterwards), killed with its
//   whole process group after `timeout` (30 s by default).
// - "gotenberg": POST multipart/form-data (field "files") to GOTENBERG_URL/forms/libreoffice/
//   convert, the answer's body being the PDF; the same timeout.
// The output is checked to be a PDF before it is kept; nothing is left behind on failure.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"

namespace crm::documents {

struct PdfOptions {
  std::string converter = "libreoffice";  // PDF_CONVERTER
  std::string soffice = "soffice";        // program (PATH lookup)
  std::string gotenberg_url;              // GOTENBERG_URL
  std::string tmp_dir;                    // DATA_DIR/tmp
  std::chrono::milliseconds timeout{30'000};
  std::function<bool()> cancelled;
};

Status ConvertToPdf(const std::string& docx_path, const std::string& pdf_path,
                    const PdfOptions& options);

}  // namespace crm::documents
