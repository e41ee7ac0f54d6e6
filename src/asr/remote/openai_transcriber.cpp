#include "asr/remote/openai_transcriber.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "asr/format.h"
#include "asr/remote/chunking.h"
#include "asr/remote/http_post.h"
#include "asr/remote/openai_http.h"
#include "asr/remote/stitch.h"
#include "audio/decoder.h"
#include "common/log.h"

namespace crm::asr::remote {
namespace {

using nlohmann::json;

// Extensions OpenAI's endpoint accepts as they are.
constexpr const char* kAcceptedExtensions[] = {"flac", "m4a", "mp3", "mp4", "mpeg",
                                               "mpga", "oga", "ogg", "wav", "webm"};
constexpr int kRate = audio::kSampleRate;
// How much of the previous chunk's text is given as prompt to the next one (bytes).
constexpr size_t kPromptTailBytes = 200;
// Room left under the upload limit for the multipart envelope and the other fields: servers
// count the whole body against their limit.
constexpr int64_t kEnvelopeBytes = 16 * 1024;

std::string LowerExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// The language asked for, reported when the server does not say which it heard (`json`).
std::string AskedLanguage(const OpenAiOptions& o) {
  return o.language == "auto" ? std::string() : LanguageCode(o.language);
}

// An answer without times (`json`) spans the audio it was given.
void FillMissingTimes(Transcript& t, double seconds) {
  if (t.duration <= 0) t.duration = seconds;
  if (t.segments.size() == 1 && t.segments[0].end <= t.segments[0].start)
    t.segments[0].end = seconds;
}

bool AcceptedAsIs(const std::string& ext) {
  for (const char* e : kAcceptedExtensions)
    if (ext == e) return true;
  return false;
}

std::string MimeFor(const std::string& ext) {
  if (ext == "wav") return "audio/wav";
  if (ext == "mp3" || ext == "mpga" || ext == "mpeg") return "audio/mpeg";
  if (ext == "ogg" || ext == "oga") return "audio/ogg";
  if (ext == "m4a" || ext == "mp4") return "audio/mp4";
  if (ext == "webm") return "audio/webm";
  if (ext == "flac") return "audio/flac";
  return "application/octet-stream";
}

// The last words of `text`, cut at a space and never inside a UTF-8 sequence.
std::string Tail(const std::string& text, size_t bytes) {
  if (text.size() <= bytes) return text;
  size_t from = text.size() - bytes;
  while (from < text.size() && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) ++from;
  size_t space = text.find(' ', from);
  if (space != std::string::npos && space + 1 < text.size()) from = space + 1;
  return text.substr(from);
}

// One Transcribe call: sends uploads with retries.
class Session {
 public:
  explicit Session(const OpenAiOptions& o)
      : o_(o),
        caller_(OpenAiService{"the transcription server", o.base_url, o.api_key, o.model},
                RetryPolicy{o.max_retries, o.initial_backoff_seconds, o.max_backoff_seconds},
                o.progress) {
    std::string base = o.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    url_ = base + "/audio/transcriptions";
    headers_ = AuthHeaders(caller_.service());
  }

  Result<Transcript> Send(FormPart file, const std::string& prompt) {
    auto r = SendAs(file, prompt, /*verbose=*/true);
    // Some models (gpt-4o-transcribe...) only answer `json`: ask again without timestamps.
    if (!r.ok() && r.error().code == ErrorCode::kBadRequest && r.error().details.is_object() &&
        (r.error().details.value("param", "") == "response_format" ||
         r.error().message.find("response_format") != std::string::npos)) {
      log::Info("the transcription model does not give timestamps; asking for plain text",
                {{"model", o_.model}});
      return SendAs(std::move(file), prompt, /*verbose=*/false);
    }
    return r;
  }

 private:
  Result<Transcript> SendAs(const FormPart& file, const std::string& prompt, bool verbose) {
    std::vector<FormPart> parts = {file};
    auto field = [&](const char* name, std::string value) {
      FormPart p;
      p.name = name;
      p.value = std::move(value);
      parts.push_back(std::move(p));
    };
    field("model", o_.model);
    field("response_format", verbose ? "verbose_json" : "json");
    if (verbose) {
      field("timestamp_granularities[]", "word");
      field("timestamp_granularities[]", "segment");
    }
    if (!o_.language.empty() && o_.language != "auto") field("language", o_.language);
    if (!prompt.empty()) field("prompt", prompt);
    if (o_.temperature >= 0) field("temperature", std::to_string(o_.temperature));

    HttpPostOptions http{o_.timeout_seconds, o_.connect_timeout_seconds,
                         "the transcription server"};
    std::optional<Transcript> out;
    Status st =
        caller_.Call([&] { return PostMultipart(url_, headers_, parts, http, o_.progress); },
                     [&](const HttpResponse& r) -> Status {
                       CRM_ASSIGN_OR_RETURN(Transcript t, Parse(r));
                       out = std::move(t);
                       return OkStatus();
                     });
    if (!st.ok()) {
      Error e = st.take_error();
      if (e.code == ErrorCode::kCancelled) e.message = "transcription cancelled";
      return e;
    }
    return std::move(*out);
  }

  Result<Transcript> Parse(const HttpResponse& r) {
    auto t = ParseVerboseJson(r.body);
    if (!t.ok())
      return Error(ErrorCode::kUnavailable,
                   "the transcription server " + LoggableUrl(o_.base_url) +
                       " answered with something that is not a transcription (" +
                       t.error().message + ")",
                   {{"http_status", r.status}, {"content_type", r.content_type}});
    return t;
  }

  const OpenAiOptions& o_;
  RetryingCaller caller_;
  std::string url_;
  std::vector<std::string> headers_;
};

}  // namespace

OpenAiTranscriber::OpenAiTranscriber(OpenAiOptions options) : options_(std::move(options)) {}

Result<Transcript> OpenAiTranscriber::Transcribe(const std::string& path) {
  const OpenAiOptions& o = options_;
  if (o.base_url.rfind("http://", 0) != 0 && o.base_url.rfind("https://", 0) != 0)
    return InvalidArgument("OPENAI_BASE_URL must start with http:// or https:// (got '" +
                           LoggableUrl(o.base_url) + "')");
  CRM_ASSIGN_OR_RETURN(auto stream, audio::PcmStream::Open(path, kRate));
  const audio::MediaInfo info = stream->info();
  const std::string ext = LowerExtension(path);
  Session session(o);

  if (AcceptedAsIs(ext) && info.size_bytes + kEnvelopeBytes <= o.max_upload_bytes &&
      info.duration_seconds > 0 && info.duration_seconds <= o.max_chunk_seconds) {
    stream.reset();
    log::Info("uploading recording for transcription", {{"server", LoggableUrl(o.base_url)},
                                                        {"model", o.model},
                                                        {"bytes", info.size_bytes},
                                                        {"chunks", 1}});
    FormPart file;
    file.name = "file";
    file.file_path = path;
    file.filename = std::filesystem::path(path).filename().string();
    file.content_type = MimeFor(ext);
    file.is_file = true;
    CRM_ASSIGN_OR_RETURN(Transcript t, session.Send(std::move(file), o.prompt));
    FillMissingTimes(t, info.duration_seconds);
    if (t.language.empty()) t.language = AskedLanguage(o);
    o.progress.Report(1.0);
    return t;
  }

  // Re-encode, in chunks that fit the upload limit and the duration limit.
  EncoderOptions encoder{o.opus_bitrate};
  const double budget = static_cast<double>(o.max_upload_bytes - kEnvelopeBytes);
  const double chunk_seconds =
      std::min(o.max_chunk_seconds, budget / EncodedBytesPerSecond(kRate, encoder));
  if (chunk_seconds < std::max(5.0, 4 * o.chunk_overlap_seconds))
    return InvalidArgument("the upload limit of " + std::to_string(o.max_upload_bytes) +
                           " bytes is too small to send audio in useful chunks");
  SplitOptions split{chunk_seconds, o.chunk_overlap_seconds, std::min(10.0, chunk_seconds / 4)};
  const double expected = info.duration_seconds;
  log::Info("re-encoding recording for transcription", {{"server", LoggableUrl(o.base_url)},
                                                        {"model", o.model},
                                                        {"source_bytes", info.size_bytes},
                                                        {"duration_seconds", expected},
                                                        {"chunk_seconds", chunk_seconds}});

  ChunkSplitter splitter(stream.get(), kRate, split);
  std::vector<ChunkTranscript> parts;
  int64_t total_samples = 0;
  std::string previous_text;
  while (!splitter.done()) {
    if (o.progress.Cancelled()) return Error(ErrorCode::kCancelled, "transcription cancelled");
    CRM_ASSIGN_OR_RETURN(AudioChunk chunk, splitter.Next());
    CRM_ASSIGN_OR_RETURN(EncodedAudio encoded, EncodeChunk(chunk.pcm, kRate, encoder));
    if (static_cast<int64_t>(encoded.bytes.size()) + kEnvelopeBytes > o.max_upload_bytes)
      return Error(ErrorCode::kPayloadTooLarge,
                   "a re-encoded chunk is still over the upload limit of " +
                       std::to_string(o.max_upload_bytes) + " bytes");
    log::Debug("uploading chunk", {{"index", parts.size()},
                                   {"start_seconds", chunk.first_sample / double(kRate)},
                                   {"seconds", chunk.pcm.size() / double(kRate)},
                                   {"bytes", encoded.bytes.size()}});
    FormPart file;
    file.name = "file";
    file.value = std::move(encoded.bytes);
    file.filename = encoded.filename;
    file.content_type = encoded.content_type;
    file.is_file = true;
    const std::string prompt = o.prompt.empty() ? Tail(previous_text, kPromptTailBytes) : o.prompt;
    CRM_ASSIGN_OR_RETURN(Transcript t, session.Send(std::move(file), prompt));
    FillMissingTimes(t, chunk.pcm.size() / double(kRate));
    previous_text = t.Text();
    ChunkTranscript part;
    part.offset = chunk.first_sample / double(kRate);
    part.keep_from = chunk.keep_from / double(kRate);
    part.keep_until =
        chunk.last ? std::numeric_limits<double>::infinity() : chunk.keep_until / double(kRate);
    part.transcript = std::move(t);
    parts.push_back(std::move(part));
    total_samples = chunk.first_sample + static_cast<int64_t>(chunk.pcm.size());
    if (expected > 0) o.progress.Report(std::min(1.0, total_samples / (expected * kRate)));
  }
  o.progress.Report(1.0);
  Transcript stitched = Stitch(parts, total_samples / double(kRate));
  if (stitched.language.empty()) stitched.language = AskedLanguage(o);
  return stitched;
}

}  // namespace crm::asr::remote
