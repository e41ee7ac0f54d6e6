#include "mail/mime.h"

#include <ctime>

#include "common/ids.h"
#include "common/text.h"

namespace crm::mail {

namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool IsPrintableAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return true;
}

bool AtomChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// A file name safe inside a quoted header parameter: no quote, backslash or control character.
std::string SafeFileName(std::string_view name) {
  std::string out;
  for (unsigned char c : name) out += (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '_' : c;
  return out.empty() ? "piece-jointe" : out;
}

std::string AsciiFallback(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x80) {
      if ((c & 0xC0) != 0x80) out += '_';  // one per character
      continue;
    }
    out += static_cast<char>(c);
  }
  return out;
}

std::string PercentEncodeUtf8(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Base64Decode(std::string_view s) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v = B64Value(c);
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

std::string Boundary() { return "=_crm_" + RandomHex(12); }

}  // namespace

Result<std::string> CheckAddress(std::string_view raw, const std::string& field) {
  auto bad = [&] {
    return InvalidArgument(
        "Adresse e-mail invalide : " + field + ". / Invalid e-mail address: " + field + ".",
        {{field, "invalid_email"}});
  };
  for (unsigned char c : raw)
    if (c < 0x20 && c != ' ') return bad();
  std::string a = Trim(raw);
  if (a.empty() || a.size() > 254) return bad();
  auto at = a.rfind('@');
  if (at == std::string::npos || at == 0 || at + 1 >= a.size() || at > 64) return bad();
  std::string local = a.substr(0, at), domain = ToLowerAscii(a.substr(at + 1));
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string::npos)
    return bad();
  for (unsigned char c : local)
    if (!AtomChar(c) && c != '.') return bad();
  auto labels = Split(domain, '.');
  if (labels.size() < 2) return bad();
  for (const auto& l : labels) {
    if (l.empty() || l.size() > 63 || l.front() == '-' || l.back() == '-') return bad();
    for (unsigned char c : l)
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return bad();
  }
  return local + "@" + domain;
}

Status CheckHeaderValue(std::string_view value, const std::string& field) {
  for (unsigned char c : value)
    if (c < 0x20 || c == 0x7f)
      return InvalidArgument(
          "Retour à la ligne ou caractère de contrôle interdit : " + field +
              ". / Line breaks and control characters are not allowed: " + field + ".",
          {{field, "control_character"}});
  if (!IsValidUtf8(value))
    return InvalidArgument("Texte UTF-8 invalide : " + field + ". / Invalid UTF-8: " + field + ".",
                           {{field, "invalid_utf8"}});
  return OkStatus();
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string Base64Lines(std::string_view bytes) {
  std::string b = Base64Encode(bytes), out;
  out.reserve(b.size() + b.size() / 76 * 2 + 2);
  for (size_t i = 0; i < b.size(); i += 76) {
    out.append(b, i, 76);
    out += "\r\n";
  }
  return out;
}

std::string EncodeHeaderText(std::string_view text) {
  if (IsPrintableAscii(text) && text.find("=?") == std::string_view::npos) return std::string(text);
  // 45 bytes → 60 base64 characters; with "=?UTF-8?B?" and "?=" a word is 72 characters.
  std::string out, chunk;
  auto flush = [&] {
    if (chunk.empty()) return;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + Base64Encode(chunk) + "?=";
    chunk.clear();
  };
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > text.size()) len = text.size() - i;
    if (chunk.size() + len > 45) flush();
    chunk.append(text.substr(i, len));
    i += len;
  }
  flush();
  return out;
}

std::string FormatMailbox(std::string_view name, std::string_view address) {
  std::string n = Trim(name);
  if (n.empty()) return std::string(address);
  if (IsPrintableAscii(n) && n.find("=?") == std::string::npos) {
    std::string q = "\"";
    for (char c : n) {
      if (c == '"' || c == '\\') q += '\\';
      q += c;
    }
    return q + "\" <" + std::string(address) + ">";
  }
  return EncodeHeaderText(n) + " <" + std::string(address) + ">";
}

std::string DecodeHeaderText(std::string_view v) {
  std::string out, pending_space;
  size_t i = 0;
  bool last_was_word = false;
  while (i < v.size()) {
    if (v.compare(i, 2, "=?") == 0) {
      size_t q1 = v.find('?', i + 2);
      size_t q2 = q1 == std::string_view::npos ? q1 : v.find('?', q1 + 1);
      size_t end = q2 == std::string_view::npos ? q2 : v.find("?=", q2 + 1);
      if (end != std::string_view::npos && q2 == q1 + 2) {
        char enc = static_cast<char>(std::toupper(static_cast<unsigned char>(v[q1 + 1])));
        std::string_view payload = v.substr(q2 + 1, end - q2 - 1);
        std::string decoded;
        if (enc == 'B') {
          decoded = Base64Decode(payload);
        } else {
          for (size_t k = 0; k < payload.size(); ++k) {
            if (payload[k] == '_')
              decoded += ' ';
            else if (payload[k] == '=' && k + 2 < payload.size()) {
              decoded +=
                  static_cast<char>(std::stoi(std::string(payload.substr(k + 1, 2)), nullptr, 16));
              k += 2;
            } else
              decoded += payload[k];
          }
        }
        if (!last_was_word) out += pending_space;
        pending_space.clear();
        out += decoded;
        last_was_word = true;
        i = end + 2;
        continue;
      }
    }
    char c = v[i++];
    if (c == '\r' || c == '\n') continue;
    if (c == ' ' || c == '\t') {
      pending_space += ' ';
      continue;
    }
    out += pending_space;
    pending_space.clear();
    out += c;
    last_was_word = false;
  }
  if (!last_was_word) out += pending_space;
  return out;
}

std::string Rfc5322Date(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday],
                tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<std::string> BuildMessage(const Message& m) {
  CRM_TRY(CheckHeaderValue(m.subject, "subject"));
  CRM_TRY(CheckHeaderValue(m.from_name, "from_name"));
  CRM_ASSIGN_OR_RETURN(std::string from, CheckAddress(m.from_address, "from"));
  if (m.to.empty())
    return InvalidArgument("Au moins un destinataire. / At least one recipient.",
                           {{"to", "required"}});
  std::string to, cc;
  for (const auto& a : m.to) {
    CRM_TRY(CheckHeaderValue(a, "to"));
    CRM_ASSIGN_OR_RETURN(std::string checked, CheckAddress(a, "to"));
    to += (to.empty() ? "" : ",\r\n ") + checked;
  }
  for (const auto& a : m.cc) {
    CRM_TRY(CheckHeaderValue(a, "cc"));
    CRM_ASSIGN_OR_RETURN(std::string checked, CheckAddress(a, "cc"));
    cc += (cc.empty() ? "" : ",\r\n ") + checked;
  }
  std::string reply_to;
  if (!m.reply_to.empty()) {
    CRM_TRY(CheckHeaderValue(m.reply_to, "reply_to"));
    CRM_ASSIGN_OR_RETURN(reply_to, CheckAddress(m.reply_to, "reply_to"));
  }
  CRM_TRY(CheckHeaderValue(m.message_id, "message_id"));
  for (const auto& att : m.attachments) {
    CRM_TRY(CheckHeaderValue(att.content_type, "content_type"));
    CRM_TRY(CheckHeaderValue(att.file_name, "file_name"));
  }

  std::string h;
  h += "Date: " + (m.date.empty() ? Rfc5322Date(NowUnix()) : m.date) + "\r\n";
  h += "From: " + FormatMailbox(m.from_name, from) + "\r\n";
  h += "To: " + to + "\r\n";
  if (!cc.empty()) h += "Cc: " + cc + "\r\n";
  if (!reply_to.empty()) h += "Reply-To: " + reply_to + "\r\n";
  h += "Subject: " + EncodeHeaderText(m.subject) + "\r\n";
  if (m.auto_generated) h += "Auto-Submitted: auto-generated\r\n";
  if (!m.message_id.empty()) h += "Message-ID: " + m.message_id + "\r\n";
  h += "MIME-Version: 1.0\r\n";

  std::string alt_boundary = Boundary();
  std::string alt =
      "Content-Type: multipart/alternative; boundary=\"" + alt_boundary + "\"\r\n\r\n";
  alt += "--" + alt_boundary + "\r\n";
  alt += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  alt += Base64Lines(m.text);
  alt += "--" + alt_boundary + "\r\n";
  alt += "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n";
  alt += Base64Lines(m.html);
  alt += "--" + alt_boundary + "--\r\n";

  if (m.attachments.empty()) return h + alt;

  std::string mixed_boundary = Boundary();
  std::string out =
      h + "Content-Type: multipart/mixed; boundary=\"" + mixed_boundary + "\"\r\n\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  out += "--" + mixed_boundary + "\r\n" + alt;
  for (const auto& att : m.attachments) {
    std::string name = SafeFileName(att.file_name);
    std::string ascii = AsciiFallback(name);
    // Non-ASCII names: RFC 2231 in the disposition, an ASCII look-alike in the type's name for
    // older readers.
    bool plain = ascii == name;
    std::string params =
        plain ? "filename=\"" + name + "\"" : "filename*=UTF-8''" + PercentEncodeUtf8(name);
    out += "--" + mixed_boundary + "\r\n";
    out += "Content-Type: " +
           (att.content_type.empty() ? std::string("application/octet-stream") : att.content_type) +
           ";\r\n name=\"" + ascii + "\"\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "Content-Disposition: attachment; " + params + "\r\n\r\n";
    out += Base64Lines(att.bytes);
  }
  out += "--" + mixed_boundary + "--\r\n";
  return out;
}

}  // namespace crm::mail
