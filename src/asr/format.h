// Renderings of a Transcript in the formats users and OpenAI clients expect, and the reverse
// for OpenAI's verbose_json (what an OpenAI-compatible server answers).
//
//   txt           one line per segment, "[Speaker] text" when the segment has a speaker
//   text          OpenAI's `text`: the whole text on one line
//   srt / vtt     subtitles; timestamps 00:01:02,345 (SRT) / 00:01:02.345 (WebVTT), hours keep
//                 counting past 99 minutes; speakers as "[Name] " (SRT) or <v Name> (WebVTT)
//   json          OpenAI's `json`: {"text": ...}
//   verbose_json  OpenAI's: task, language (its English name, as OpenAI writes it), duration,
//                 text, segments (id, seek, start, end, text, tokens, temperature, avg_logprob,
//                 compression_ratio, no_speech_prob), words (word, start, end). A speaker, when
//                 known, is added as "speaker" on segments and words; clients ignore it.
// Times are rounded to the millisecond. Text is passed through as UTF-8, untouched.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "asr/transcript.h"
#include "common/result.h"

namespace crm::asr {

enum class OutputFormat { kTxt, kText, kSrt, kVtt, kJson, kVerboseJson };

// "txt", "text", "srt", "vtt", "json", "verbose_json"; anything else is kInvalidArgument.
Result<OutputFormat> ParseOutputFormat(std::string_view name);
// The MIME type to serve a rendering with ("text/plain; charset=utf-8", "text/vtt", ...).
const char* ContentType(OutputFormat format);

std::string Render(const Transcript& transcript, OutputFormat format);

std::string ToTxt(const Transcript& transcript);
std::string ToText(const Transcript& transcript);
std::string ToSrt(const Transcript& transcript);
std::string ToVtt(const Transcript& transcript);
nlohmann::json ToJson(const Transcript& transcript);
nlohmann::json ToVerboseJson(const Transcript& transcript);

// Reads OpenAI's verbose_json back. Words given at the top level are attached to the segment
// that holds them; words nested in segments are accepted too. `language` may be a name
// ("french") or a code ("fr"); it becomes the code. Missing optional fields take defaults.
// kInvalidJson when `body` is not JSON, kInvalidArgument when it is not a transcription.
Result<Transcript> ParseVerboseJson(std::string_view body);
Result<Transcript> FromVerboseJson(const nlohmann::json& doc);

// "HH:MM:SS<sep>mmm"; negative times are clamped to zero.
std::string FormatTimestamp(double seconds, char millis_separator);

// Whisper's language codes and OpenAI's names for them: "fr" <-> "french". Unknown codes and
// names come back unchanged (lower-cased for names).
std::string LanguageName(std::string_view code);
std::string LanguageCode(std::string_view name_or_code);

}  // namespace crm::asr
