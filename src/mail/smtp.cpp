#include "mail/smtp.h"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

namespace crm::mail {

namespace {

struct Upload {
  const std::string* data;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* user) {
  auto* u = static_cast<Upload*>(user);
  size_t n = std::min(size * nitems, u->data->size() - u->offset);
  std::memcpy(buffer, u->data->data() + u->offset, n);
  u->offset += n;
  return n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

Status SendSmtp(const SmtpOptions& o, const std::string& from,
                const std::vector<std::string>& recipients, const std::string& message) {
  GlobalInit();
  CURL* curl = curl_easy_init();
  if (!curl) return Internal("libcurl could not start");
  std::string scheme = o.encryption == "ssl" ? "smtps://" : "smtp://";
  std::string url = scheme + o.host + ":" + std::to_string(o.port) + "/crm-ai";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (o.encryption == "tls")
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
  else if (o.encryption.empty())
    curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!o.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, o.ca_file.c_str());
  if (!o.username.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, o.password.c_str());
  }
  std::string mail_from = "<" + from + ">";
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_slist* rcpt = nullptr;
  for (const auto& r : recipients) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  Upload up{&message};
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
  curl_easy_setopt(curl, CURLOPT_READDATA, &up);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(o.connect_timeout_seconds));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(o.timeout_seconds));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(curl);
  long reply = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc == CURLE_OK) return OkStatus();
  std::string what = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  // libcurl's messages name the server and the reply, never the credentials; the password is
  // scrubbed anyway in case a server echoed it back.
  if (!o.password.empty())
    for (size_t at; (at = what.find(o.password)) != std::string::npos;)
      what.replace(at, o.password.size(), "(hidden)");
  std::string msg = "SMTP " + o.host + ":" + std::to_string(o.port) + ": " + what +
                    (reply ? " (reply " + std::to_string(reply) + ")" : "");
  bool permanent = reply >= 500 || rc == CURLE_LOGIN_DENIED;
  return Error(ErrorCode::kUnavailable, msg, {{"retryable", !permanent}, {"smtp_reply", reply}},
               "smtp_failed");
}

}  // namespace crm::mail
