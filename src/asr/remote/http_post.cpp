#include "asr/remote/http_post.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>
#include <string_view>

namespace crm::asr::remote {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t AppendBody(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

bool HeaderIs(std::string_view line, std::string_view name) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  return true;
}

size_t ReadHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  std::string_view line(data, size * count);
  auto value = [&](std::string_view name) {
    std::string_view v = line.substr(name.size() + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
      v.remove_suffix(1);
    return std::string(v);
  };
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a 100 Continue or a redirect): forget the previous headers.
    response->retry_after.clear();
    response->retry_after_ms.clear();
  } else if (HeaderIs(line, "retry-after")) {
    response->retry_after = value("retry-after");
  } else if (HeaderIs(line, "retry-after-ms")) {
    response->retry_after_ms = value("retry-after-ms");
  } else if (HeaderIs(line, "content-type")) {
    response->content_type = value("content-type");
  } else if (HeaderIs(line, "x-request-id")) {
    response->request_id = value("x-request-id");
  }
  return size * count;
}

int OnTransferProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* progress = static_cast<const ProgressSink*>(user);
  return progress->Cancelled() ? 1 : 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct MimeDeleter {
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Runs the transfer set up on `c` (URL, body, headers), shared by both kinds of POST.
Result<HttpResponse> Perform(CURL* c, const std::string& url, curl_slist* headers,
                             const HttpPostOptions& options, const ProgressSink& progress) {
  HttpResponse response;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "crm-ai");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max(1.0, options.timeout_seconds * 1000)));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::max(1.0, options.connect_timeout_seconds * 1000)));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ReadHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnTransferProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &progress);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");

  char error_text[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_text);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why = error_text[0] ? error_text : curl_easy_strerror(rc);
    switch (rc) {
      case CURLE_ABORTED_BY_CALLBACK:
        return Error(ErrorCode::kCancelled, "the request to " + options.server + " was cancelled");
      case CURLE_OPERATION_TIMEDOUT:
        return Error(ErrorCode::kTimeout, options.server + " did not answer in time (" + why + ")");
      case CURLE_READ_ERROR:
        return IoError("cannot read the file to upload (" + why + ")");
      default:
        return Error(ErrorCode::kUnavailable,
                     options.server + " could not be reached (" + why + ")");
    }
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace

Result<HttpResponse> PostMultipart(const std::string& url, const std::vector<std::string>& headers,
                                   const std::vector<FormPart>& parts,
                                   const HttpPostOptions& options, const ProgressSink& progress) {
  GlobalInitOnce();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Internal("libcurl could not start a transfer");
  CURL* c = curl.get();

  std::unique_ptr<curl_mime, MimeDeleter> mime(curl_mime_init(c));
  for (const FormPart& part : parts) {
    curl_mimepart* p = curl_mime_addpart(mime.get());
    curl_mime_name(p, part.name.c_str());
    if (!part.file_path.empty()) {
      if (curl_mime_filedata(p, part.file_path.c_str()) != CURLE_OK)
        return IoError("cannot read the file to upload: " + part.file_path);
    } else {
      curl_mime_data(p, part.value.data(), part.value.size());
    }
    if (part.is_file || !part.file_path.empty()) {
      curl_mime_filename(p, part.filename.c_str());
      if (!part.content_type.empty()) curl_mime_type(p, part.content_type.c_str());
    }
  }

  curl_slist* raw_headers = nullptr;
  for (const std::string& h : headers) raw_headers = curl_slist_append(raw_headers, h.c_str());
  // Send the body at once instead of waiting for "100 Continue", which many servers never send.
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  std::unique_ptr<curl_slist, SlistDeleter> header_list(raw_headers);
  curl_easy_setopt(c, CURLOPT_MIMEPOST, mime.get());
  return Perform(c, url, header_list.get(), options, progress);
}

Result<HttpResponse> PostJson(const std::string& url, const std::vector<std::string>& headers,
                              const std::string& json_body, const HttpPostOptions& options,
                              const ProgressSink& progress) {
  GlobalInitOnce();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return Internal("libcurl could not start a transfer");
  CURL* c = curl.get();
  curl_slist* raw_headers = nullptr;
  for (const std::string& h : headers) raw_headers = curl_slist_append(raw_headers, h.c_str());
  raw_headers = curl_slist_append(raw_headers, "Content-Type: application/json");
  raw_headers = curl_slist_append(raw_headers, "Expect:");
  std::unique_ptr<curl_slist, SlistDeleter> header_list(raw_headers);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(json_body.size()));
  return Perform(c, url, header_list.get(), options, progress);
}

}  // namespace crm::asr::remote
