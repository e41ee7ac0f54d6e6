// The OpenAI-compatible endpoint: POST /v1/audio/transcriptions and GET /v1/models in OpenAI's
// wire format, so any OpenAI SDK can use crm-ai as its transcription service.
//
// API keys only (Authorization: Bearer or X-API-Key). The audio is streamed to a temporary file
// under the upload limit, checked locally (not media / undecodable → OpenAI's 400
// invalid_request_error) and transcribed with the configured engine; the file is removed when
// the request ends, whatever happened. Errors the handler produces have OpenAI's shape
// {"error": {"message", "type", "param", "code"}}.
#include "api/recording_routes.h"
#include "asr/format.h"
#include "audio/decoder.h"
#include "common/log.h"
#include "common/text.h"
#include "http/error_map.h"

namespace crm::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

Response OpenAiError(int status, const std::string& message, const std::string& type,
                     const json& param, const json& code) {
  return Response::Json(
      status,
      {{"error", {{"message", message}, {"type", type}, {"param", param}, {"code", code}}}});
}

Response FromEngineError(const Error& e) {
  switch (e.code) {
    case ErrorCode::kUnsupportedMediaType:
    case ErrorCode::kUndecodable:
    case ErrorCode::kBadRequest:
    case ErrorCode::kInvalidArgument:
      return OpenAiError(400, e.message, "invalid_request_error", nullptr, nullptr);
    case ErrorCode::kPayloadTooLarge:
      return OpenAiError(413, e.message, "invalid_request_error", "file", nullptr);
    case ErrorCode::kRateLimited:
      return OpenAiError(429, e.message, "rate_limit_error", nullptr, nullptr);
    case ErrorCode::kNotFound:  // the speech model file
    case ErrorCode::kUnavailable:
      return OpenAiError(503, e.message, "server_error", nullptr, nullptr);
    case ErrorCode::kTimeout:
      return OpenAiError(504, e.message, "server_error", nullptr, nullptr);
    default:
      return OpenAiError(500, "The server had an error while processing your request.",
                         "server_error", nullptr, nullptr);
  }
}

// Errors raised before the handler runs (authentication, limits) in OpenAI's shape too, so the
// SDKs report them as they would OpenAI's own.
Response BeforeHandlerError(const Error& e) {
  if (e.code == ErrorCode::kUnauthenticated)
    return OpenAiError(
        401, "Incorrect API key provided: use a crm-ai API key (Authorization: Bearer KEY).",
        "invalid_request_error", nullptr, "invalid_api_key");
  if (e.code == ErrorCode::kForbidden)
    return OpenAiError(403, e.message, "permission_error", nullptr, nullptr);
  return FromEngineError(e);
}

Response Transcriptions(pipeline::Services& s, Request& req) {
  auto file = pipeline::TakeUpload(req);  // removed when this handler returns
  if (req.principal.via_session)
    return OpenAiError(401, "Use an API key (Authorization: Bearer KEY).", "invalid_request_error",
                       nullptr, "invalid_api_key");
  if (!file)
    return OpenAiError(400, "No file was uploaded.", "invalid_request_error", "file", nullptr);
  auto field = [&](const char* name) {
    auto it = file->fields.find(name);
    return it == file->fields.end() ? std::string() : Trim(it->second);
  };
  if (field("model").empty())
    return OpenAiError(400, "you must provide a model parameter", "invalid_request_error", "model",
                       nullptr);
  std::string format_name = field("response_format").empty() ? "json" : field("response_format");
  auto format = asr::ParseOutputFormat(format_name);
  if (!format.ok() || format_name == "txt")
    return OpenAiError(400, "response_format must be one of json, text, srt, verbose_json, vtt",
                       "invalid_request_error", "response_format", "unsupported_value");
  pipeline::TranscriptionRequest tr;
  tr.language = field("language").empty() ? "auto" : ToLowerAscii(field("language"));
  tr.prompt = field("prompt");
  if (std::string t = field("temperature"); !t.empty()) {
    try {
      size_t pos = 0;
      tr.temperature = std::stod(t, &pos);
      if (pos != t.size() || tr.temperature < 0 || tr.temperature > 1)
        throw std::invalid_argument(t);
    } catch (...) {
      return OpenAiError(400, "temperature must be a number between 0 and 1",
                         "invalid_request_error", "temperature", "invalid_value");
    }
  }
  std::string granularities = field("timestamp_granularities[]");
  if (granularities.empty()) granularities = field("timestamp_granularities");
  bool words = granularities.find("word") != std::string::npos;
  tr.word_timestamps = words;

  // Checked locally before anything else: no engine, no upload for a file that is not audio.
  if (file->size() == 0)
    return OpenAiError(400, "The audio file is empty.", "invalid_request_error", "file",
                       "invalid_value");
  auto info = audio::Probe(file->path());
  if (!info.ok()) {
    bool not_media = info.error().code == ErrorCode::kUnsupportedMediaType;
    return OpenAiError(
        400,
        not_media ? "Invalid file format: the file is not audio or video."
                  : "The audio file could not be decoded or its format is not supported.",
        "invalid_request_error", "file", not_media ? "invalid_file_format" : "invalid_value");
  }
  auto transcript = s.engine.Transcribe(file->path(), tr, {});
  if (!transcript.ok()) {
    log::Warn("/v1 transcription failed", {{"error", transcript.error().message}});
    return FromEngineError(transcript.error());
  }
  if (!words)
    for (auto& seg : transcript->segments) seg.words.clear();
  return Response::Text(200, asr::Render(*transcript, *format), asr::ContentType(*format));
}

// Answers on /v1 paths that no route takes (an unknown path, another method, malformed HTTP):
// OpenAI's shape as well, so an SDK reports them as OpenAI's own.
Response PathError(const Error& e) {
  int status = http::StatusFor(e.code);
  const char* type = status == 429   ? "rate_limit_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  return OpenAiError(status, e.message, type, nullptr, e.CodeName());
}

}  // namespace

void RegisterV1Routes(http::Router& r, App& app, pipeline::Services& s) {
  (void)app;
  r.SetErrorFormat("/v1/", PathError);
  r.Add("POST", "/v1/audio/transcriptions", [&s](Request& req) { return Transcriptions(s, req); },
        {.body_sink =
             [&s](const Request& req, std::optional<uint64_t> length) {
               return pipeline::NewUploadSink(req, length, s.SinkOptions(/*multipart_only=*/true));
             },
         .error_format = BeforeHandlerError,
         .summary = "Transcription compatible OpenAI (multipart : file, model, language, prompt, "
                    "temperature, response_format, timestamp_granularities[])",
         .tag = "openai"});
  r.Add("GET", "/v1/models",
        [&s](Request&) {
          json data = json::array(
              {{{"id", "whisper-1"}, {"object", "model"}, {"created", 0}, {"owned_by", "crm-ai"}}});
          if (s.config.transcription_mode == "openai" &&
              s.config.openai_transcription_model != "whisper-1")
            data.push_back({{"id", s.config.openai_transcription_model},
                            {"object", "model"},
                            {"created", 0},
                            {"owned_by", "crm-ai"}});
          return Response::Json(200, {{"object", "list"}, {"data", data}});
        },
        {.error_format = BeforeHandlerError,
         .summary = "Modèles de transcription disponibles (format OpenAI)",
         .tag = "openai"});
}

}  // namespace crm::api
