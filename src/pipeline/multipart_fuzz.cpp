// The streaming multipart/form-data parser of uploads on arbitrary bodies, cut into arbitrary
// pieces: no crash, no read out of bounds, and no temporary file outlives the sink or the upload.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "pipeline/upload_sink.h"

namespace {

std::string* tmp_dir = nullptr;

bool DirEmpty() {
  std::error_code ec;
  return std::filesystem::is_empty(*tmp_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/crm-multipart-fuzz-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  tmp_dir = new std::string(tmpl);
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(*tmp_dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // First byte: the size of the pieces the body arrives in; second: the file size limit.
  size_t piece = 1 + data[0] % 64;
  int64_t max = 16 + data[1] * 16;
  std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
  crm::http::Request req;
  req.headers["Content-Type"] = "multipart/form-data; boundary=XyZ";
  crm::pipeline::UploadSinkOptions o{.tmp_dir = *tmp_dir, .max_file_bytes = max};
  {
    auto sink = crm::pipeline::NewUploadSink(req, body.size(), o);
    if (!sink.ok()) std::abort();
    bool failed = false;
    for (size_t at = 0; at < body.size() && !failed; at += piece)
      failed = !(*sink)->Write(body.data() + at, std::min(piece, body.size() - at)).ok();
    if (failed) {
      (*sink)->Abort();
    } else if ((*sink)->Finish(req).ok()) {
      auto up = crm::pipeline::TakeUpload(req);
      if (!up || up->size() > max) std::abort();
    }
  }
  if (!DirEmpty()) std::abort();
  return 0;
}
