// Text utilities: UTF-8 validation, accent- and case-folding for search ("Hélène" → "helene"),
// trimming, ISO-8601 UTC times.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crm {

bool IsValidUtf8(std::string_view s);
// Lower-cases and strips diacritics of Latin letters (French, German, Spanish, ... : é→e, ç→c,
// œ→oe, ß→ss); other characters are kept (lower-cased where ASCII).
std::string FoldForSearch(std::string_view s);
std::string Trim(std::string_view s);
std::string ToLowerAscii(std::string_view s);
std::vector<std::string> Split(std::string_view s, char sep);
// The whole of `s` as a decimal integer within [lo, hi] ("-" allowed, no spaces, no "+"), or
// nullopt.
std::optional<int> ParseInt(std::string_view s, int lo, int hi);

// `s` with & < > " ' written as HTML entities (text and attribute values alike).
void AppendHtmlEscaped(std::string& out, std::string_view s);
std::string HtmlEscape(std::string_view s);

// Seconds since the Unix epoch, now.
int64_t NowUnix();
// "2026-11-25T13:21:26Z"
std::string FormatIsoUtc(int64_t unix_seconds);
std::string NowIsoUtc();
// Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)" or "YYYY-MM-DD"; nullopt when invalid.
std::optional<int64_t> ParseIsoTime(std::string_view s);

}  // namespace crm
