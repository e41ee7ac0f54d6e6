// Request and Response as handlers see them: plain values, independent of Boost.Beast.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/principal.h"
#include "common/result.h"

namespace crm::http {

using crm::Principal;

// Case-insensitive header map.
struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};
using Headers = std::map<std::string, std::string, CaseInsensitiveLess>;

struct Request {
  std::string method;   // "GET", ...
  std::string target;   // as received
  std::string path;     // percent-decoded path without the query
  std::multimap<std::string, std::string> query;
  Headers headers;
  std::string body;         // for ordinary routes
  std::string remote_ip;
  std::string request_id;
  std::map<std::string, std::string> params;  // path parameters ({id})
  Principal principal;
  std::string route_pattern;                  // e.g. "/api/clients/{id}"
  std::shared_ptr<void> upload;               // what a streaming BodySink produced

  std::string Header(std::string_view name) const;
  std::optional<std::string> Query(std::string_view name) const;
  std::string Param(std::string_view name) const;
  // Parses the body as a JSON object; errors are 400 invalid_json / 422 when not an object.
  Result<nlohmann::json> JsonBody() const;
};

struct FileBody {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
  // When set, the bytes come from here instead of the file at `path` (a blob store's reader):
  // up to `n` bytes at `offset` into `out`, the count read (0 at the end), nullopt on error.
  std::function<std::optional<size_t>(uint64_t offset, char* out, size_t n)> read;
};

// `length` bytes from `offset` of an open reader (anything with ReadAt(int64_t, void*, size_t)
// answering a Result<size_t>, such as a blobs::BlobReader), kept open while the body is sent.
template <class Reader>
FileBody BlobBody(std::shared_ptr<Reader> reader, uint64_t offset, uint64_t length) {
  FileBody f{"", offset, length, nullptr};
  f.read = [reader](uint64_t at, char* out, size_t n) -> std::optional<size_t> {
    auto got = reader->ReadAt(static_cast<int64_t>(at), out, n);
    if (!got.ok()) return std::nullopt;
    return *got;
  };
  return f;
}

class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends a chunk to the client; false when the client has gone (stop producing).
  virtual bool Write(std::string_view chunk) = 0;
  virtual bool ShuttingDown() const = 0;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  std::string body;
  // Sent instead of `body` when set: a body shared with a cache, written without a copy.
  std::shared_ptr<const std::string> shared_body;
  std::optional<FileBody> file;                          // streamed from disk when set
  std::function<void(StreamWriter&)> stream;             // server-sent events etc., when set

  Response& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  static Response Json(int status, const nlohmann::json& j);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response NoContent();
  // {"error": {"code", "message", "details"}} with the status of error.code (error_map.cpp).
  static Response FromError(const Error& e);
};

// Receives an upload's body as it arrives (raw body or multipart), for routes that stream.
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status Write(const char* data, size_t n) = 0;
  // Called once the whole body arrived; stores what the handler needs into req.upload.
  virtual Status Finish(Request& req) = 0;
  // Called when the body did not arrive whole (client gone, limit, timeout): remove any file.
  virtual void Abort() = 0;
};

using Handler = std::function<Response(Request&)>;
using BodySinkFactory =
    std::function<Result<std::unique_ptr<BodySink>>(const Request& headers_only,
                                                    std::optional<uint64_t> content_length)>;

}  // namespace crm::http
