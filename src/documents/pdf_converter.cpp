#include "documents/pdf_converter.h"

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "documents/subprocess.h"

namespace crm::documents {

namespace fs = std::filesystem;

namespace {

bool IsPdf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[5] = {};
  in.read(head, 5);
  return in.gcount() == 5 && std::string(head, 5) == "%PDF-";
}

Error ConversionFailed(const std::string& why) {
  return Error(ErrorCode::kUnavailable,
               "La conversion en PDF a échoué : " + why + ". / The PDF conversion failed: " + why +
                   ".",
               nullptr, "pdf_conversion_failed");
}

Status WithLibreOffice(const std::string& docx, const std::string& pdf, const PdfOptions& o) {
  fs::path work = fs::path(o.tmp_dir) / ("lo-" + RandomHex(8));
  std::error_code ec;
  fs::create_directories(work / "out", ec);
  fs::create_directories(work / "profile", ec);
  if (ec) return IoError("cannot create the conversion directory under " + o.tmp_dir);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{work};
  fs::path input = work / "document.docx";
  fs::copy_file(docx, input, ec);
  if (ec) return IoError("cannot stage the document for conversion");
  ProcessOptions po;
  po.timeout = o.timeout;
  po.stderr_path = (work / "stderr.txt").string();
  po.working_dir = work.string();
  po.extra_env = {"HOME=" + work.string(), "TMPDIR=" + work.string()};
  po.cancelled = o.cancelled;
  auto run = RunProcess({o.soffice, "-env:UserInstallation=file://" + (work / "profile").string(),
                         "--headless", "--invisible", "--norestore", "--nolockcheck",
                         "--nodefault", "--nologo", "--convert-to", "pdf", "--outdir",
                         (work / "out").string(), input.string()},
                        po);
  if (!run.ok()) {
    if (run.error().code == ErrorCode::kTimeout)
      return ConversionFailed("LibreOffice n'a pas fini à temps / LibreOffice timed out");
    if (run.error().code == ErrorCode::kCancelled) return run.take_error();
    return ConversionFailed("LibreOffice (soffice) est introuvable / soffice not found");
  }
  fs::path out = work / "out" / "document.pdf";
  if (run->exit_code != 0 || !IsPdf(out.string()))
    return ConversionFailed("LibreOffice n'a pas produit de PDF / LibreOffice produced no PDF");
  fs::rename(out, pdf, ec);
  if (ec) {
    fs::copy_file(out, pdf, fs::copy_options::overwrite_existing, ec);
    if (ec) return IoError("cannot keep the converted PDF");
  }
  return OkStatus();
}

size_t WriteToFile(char* data, size_t size, size_t n, void* f) {
  return std::fwrite(data, size, n, static_cast<std::FILE*>(f)) * size;
}

int Progress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* cancelled = static_cast<const std::function<bool()>*>(p);
  return (*cancelled && (*cancelled)()) ? 1 : 0;
}

Status WithGotenberg(const std::string& docx, const std::string& pdf, const PdfOptions& o) {
  if (o.gotenberg_url.empty()) return ConversionFailed("GOTENBERG_URL n'est pas défini / unset");
  std::string part = pdf + ".part";
  std::FILE* f = std::fopen(part.c_str(), "wb");
  if (!f) return IoError("cannot write " + part);
  CURL* c = curl_easy_init();
  curl_mime* mime = curl_mime_init(c);
  curl_mimepart* file = curl_mime_addpart(mime);
  curl_mime_name(file, "files");
  curl_mime_filedata(file, docx.c_str());
  curl_mime_filename(file, "document.docx");
  curl_mime_type(file, "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  std::string url = o.gotenberg_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/forms/libreoffice/convert";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteToFile);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &o.cancelled);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_mime_free(mime);
  curl_easy_cleanup(c);
  std::fclose(f);
  std::error_code ec;
  if (rc != CURLE_OK || status != 200 || !IsPdf(part)) {
    fs::remove(part, ec);
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Error(ErrorCode::kCancelled, "conversion cancelled");
    std::string why = rc != CURLE_OK ? curl_easy_strerror(rc)
                                     : "HTTP " + std::to_string(status) + " from Gotenberg";
    return ConversionFailed(why);
  }
  fs::rename(part, pdf, ec);
  if (ec) return IoError("cannot keep the converted PDF");
  return OkStatus();
}

}  // namespace

Status ConvertToPdf(const std::string& docx_path, const std::string& pdf_path,
                    const PdfOptions& options) {
  if (options.converter == "gotenberg") return WithGotenberg(docx_path, pdf_path, options);
  return WithLibreOffice(docx_path, pdf_path, options);
}

}  // namespace crm::documents
