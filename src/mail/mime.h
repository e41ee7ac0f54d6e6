// Internet messages (RFC 5322 / MIME): addresses checked, header values free of line breaks (no
// header injection), non-ASCII header text as RFC 2047 encoded-words, bodies as
// multipart/alternative (text, HTML) inside multipart/mixed when there are attachments, every
// part base64 with CRLF line ends.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace crm::mail {

// An address as a user gives it: trimmed, lower-case domain, one '@', a local part of the
// dot-atom characters, a domain of dot-separated labels (letters, digits, '-'), at most 254
// bytes. kInvalidArgument naming `field`.
Result<std::string> CheckAddress(std::string_view raw, const std::string& field);

// kInvalidArgument naming `field` when `value` holds CR, LF or another control character.
Status CheckHeaderValue(std::string_view value, const std::string& field);

// `text` as header text: unchanged when printable ASCII, else RFC 2047 "B" encoded-words of
// UTF-8 (each at most 75 characters, never splitting a character), separated by CRLF SP.
std::string EncodeHeaderText(std::string_view text);
// "Name <address>" with the name quoted or encoded as needed; the address alone without a name.
std::string FormatMailbox(std::string_view name, std::string_view address);

// RFC 2047 decoding of a header value (for tests and the stand-in's readers).
std::string DecodeHeaderText(std::string_view value);

std::string Base64Encode(std::string_view bytes);
// Base64 in lines of 76 characters, each ended by CRLF.
std::string Base64Lines(std::string_view bytes);

struct Attachment {
  std::string file_name;
  std::string content_type;
  std::string bytes;
};

struct Message {
  std::string from_name, from_address;
  std::vector<std::string> to, cc;  // checked addresses
  std::string subject;
  std::string text, html;  // UTF-8 bodies
  std::vector<Attachment> attachments;
  std::string reply_to;         // a checked address, or empty
  bool auto_generated = false;  // "Auto-Submitted: auto-generated" (RFC 3834): no auto-replies
  std::string message_id;       // "<id@domain>"
  std::string date;             // RFC 5322 date; empty = now
};

// The whole message, CRLF line ends. kInvalidArgument when a header value carries a line break
// or an address is invalid.
Result<std::string> BuildMessage(const Message& m);

// "Mon, 07 Dec 2026 15:04:05 +0000"
std::string Rfc5322Date(int64_t unix_seconds);

}  // namespace crm::mail
