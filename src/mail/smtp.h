// Sending one message over SMTP with libcurl: smtp:// with STARTTLS (MAIL_ENCRYPTION=tls
// requires it, unset uses it when offered), smtps:// for ssl, AUTH with MAIL_USERNAME /
// MAIL_PASSWORD, an optional CA file for a private CA, connect and total timeouts. The password
// never appears in an error or a log line.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace crm::mail {

struct SmtpOptions {
  std::string host;
  int port = 587;
  std::string username, password;
  std::string encryption;  // "" | "tls" | "ssl" | "none"
  std::string ca_file;
  int connect_timeout_seconds = 10;
  int timeout_seconds = 60;
};

// Sends `message` (a whole RFC 5322 message, CRLF) from `from` to every recipient. kUnavailable
// on connection and transient failures; details {"retryable": false} when the server refused
// for good (a 5xx reply: unknown recipient, authentication refused).
Status SendSmtp(const SmtpOptions& options, const std::string& from,
                const std::vector<std::string>& recipients, const std::string& message);

}  // namespace crm::mail
