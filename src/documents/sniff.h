// Content types of stored documents, decided from the bytes, never from the uploader's name or
// Content-Type header (a ".pdf" that is an executable is served as application/octet-stream).
//
// Office Open XML and OpenDocument files are ZIP archives: they are opened with SafeZip, which
// also refuses hostile archives (bombs, path traversal) at upload time.
#pragma once

#include <string>

#include "common/result.h"
#include "documents/safe_zip.h"

namespace crm::documents {

inline constexpr const char* kPdf = "application/pdf";
inline constexpr const char* kDocx =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
inline constexpr const char* kOdt = "application/vnd.oasis.opendocument.text";
inline constexpr const char* kPlainText = "text/plain; charset=utf-8";
inline constexpr const char* kOctetStream = "application/octet-stream";

struct Sniffed {
  std::string content_type;  // the MIME type served on download
  std::string extension;     // "pdf", "docx", ... ("" when unknown): names downloads
};

// The type of the file at `path`. A ZIP archive that SafeZip refuses is an error (hostile_file);
// any other file gets a type, application/octet-stream at worst.
Result<Sniffed> SniffFile(const std::string& path, const ZipLimits& limits = {});

}  // namespace crm::documents
