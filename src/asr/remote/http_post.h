// One POST over libcurl (multipart/form-data or JSON), the transport of the OpenAI-compatible
// clients (transcription, chat completions).
//
// Knows nothing of OpenAI: it sends the body, returns status, headers of interest and body, and
// turns transport failures into errors (kUnavailable for connection problems, kTimeout,
// kCancelled when the ProgressSink asks to stop). Header values given to it are never logged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/result.h"

namespace crm::asr::remote {

struct FormPart {
  std::string name;
  std::string value;         // the field's value, or a file part's bytes held in memory
  std::string file_path;     // when set, the part is this file, streamed from disk
  std::string filename;      // sent as the part's filename (file parts)
  std::string content_type;  // of a file part
  bool is_file = false;
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;     // the Retry-After header, verbatim
  std::string retry_after_ms;  // retry-after-ms, sent by some OpenAI-compatible servers
  std::string request_id;      // x-request-id, for the logs
};

struct HttpPostOptions {
  double timeout_seconds = 600;                     // whole exchange
  double connect_timeout_seconds = 30;              // TCP + TLS
  std::string server = "the transcription server";  // named in transport errors
};

// POSTs `parts` to `url` with the extra `headers` ("Name: value").
Result<HttpResponse> PostMultipart(const std::string& url, const std::vector<std::string>& headers,
                                   const std::vector<FormPart>& parts,
                                   const HttpPostOptions& options, const ProgressSink& progress);

// POSTs `json_body` (Content-Type: application/json) to `url` with the extra `headers`.
Result<HttpResponse> PostJson(const std::string& url, const std::vector<std::string>& headers,
                              const std::string& json_body, const HttpPostOptions& options,
                              const ProgressSink& progress);

}  // namespace crm::asr::remote
