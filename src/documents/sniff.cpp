#include "documents/sniff.h"

#include <cstdio>
#include <cstring>

#include "common/text.h"

namespace crm::documents {

namespace {

bool StartsWith(const std::string& head, const char* magic, size_t n, size_t at = 0) {
  return head.size() >= at + n && std::memcmp(head.data() + at, magic, n) == 0;
}

Result<Sniffed> SniffZip(const std::string& path, const ZipLimits& limits) {
  auto zip = SafeZip::Open(path, limits);
  if (!zip.ok()) {
    if (zip.error().code == ErrorCode::kCorrupt) return Sniffed{"application/zip", "zip"};
    return zip.take_error();
  }
  SafeZip& z = **zip;
  // OpenDocument: a stored "mimetype" member names the type.
  if (z.Has("mimetype")) {
    auto mime = z.Read("mimetype");
    if (mime.ok()) {
      std::string m = Trim(*mime);
      if (m == kOdt) return Sniffed{kOdt, "odt"};
      if (m == "application/vnd.oasis.opendocument.spreadsheet")
        return Sniffed{m, "ods"};
      if (m == "application/vnd.oasis.opendocument.presentation")
        return Sniffed{m, "odp"};
    }
  }
  if (z.Has("[Content_Types].xml")) {
    if (z.Has("word/document.xml")) return Sniffed{kDocx, "docx"};
    if (z.Has("xl/workbook.xml"))
      return Sniffed{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"};
    if (z.Has("ppt/presentation.xml"))
      return Sniffed{"application/vnd.openxmlformats-officedocument.presentationml.presentation",
                     "pptx"};
  }
  return Sniffed{"application/zip", "zip"};
}

bool LooksLikeText(const std::string& head) {
  if (head.empty()) return false;
  if (head.find('\0') != std::string::npos) return false;
  // The head may end inside a multi-byte character: drop an incomplete tail before checking.
  size_t end = head.size();
  for (size_t back = 0; back < 3 && end > 0; ++back) {
    auto c = static_cast<unsigned char>(head[end - 1]);
    if (c < 0x80) break;
    --end;
    if (c >= 0xC0) break;
  }
  return IsValidUtf8(std::string_view(head).substr(0, end));
}

}  // namespace

Result<Sniffed> SniffFile(const std::string& path, const ZipLimits& limits) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return IoError("cannot read the uploaded file");
  std::string head(4096, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f));
  std::fclose(f);

  if (StartsWith(head, "%PDF-", 5)) return Sniffed{kPdf, "pdf"};
  if (StartsWith(head, "PK\x03\x04", 4)) return SniffZip(path, limits);
  if (StartsWith(head, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8))
    return Sniffed{"application/msword", "doc"};  // OLE2: .doc, .xls, .msg alike
  if (StartsWith(head, "{\\rtf", 5)) return Sniffed{"application/rtf", "rtf"};
  if (StartsWith(head, "\x89PNG\r\n\x1A\n", 8)) return Sniffed{"image/png", "png"};
  if (StartsWith(head, "\xFF\xD8\xFF", 3)) return Sniffed{"image/jpeg", "jpg"};
  if (StartsWith(head, "GIF87a", 6) || StartsWith(head, "GIF89a", 6))
    return Sniffed{"image/gif", "gif"};
  if (StartsWith(head, "RIFF", 4) && StartsWith(head, "WEBP", 4, 8))
    return Sniffed{"image/webp", "webp"};
  if (StartsWith(head, "II*\0", 4) || StartsWith(head, "MM\0*", 4))
    return Sniffed{"image/tiff", "tif"};
  if (StartsWith(head, "RIFF", 4) && StartsWith(head, "WAVE", 4, 8))
    return Sniffed{"audio/wav", "wav"};
  if (StartsWith(head, "ID3", 3)) return Sniffed{"audio/mpeg", "mp3"};
  if (StartsWith(head, "ftyp", 4, 4)) return Sniffed{"video/mp4", "mp4"};
  if (StartsWith(head, "\x1F\x8B", 2)) return Sniffed{"application/gzip", "gz"};
  if (StartsWith(head, "7z\xBC\xAF\x27\x1C", 6))
    return Sniffed{"application/x-7z-compressed", "7z"};
  // Text last: HTML and SVG are served as text/plain, never as markup a browser would run.
  if (StartsWith(head, "\xEF\xBB\xBF", 3) || LooksLikeText(head))
    return Sniffed{kPlainText, "txt"};
  return Sniffed{kOctetStream, ""};
}

}  // namespace crm::documents
