#include "config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "common/ids.h"
#include "common/text.h"

extern char** environ;

namespace crm::config {
namespace fs = std::filesystem;

namespace {

const char* kDemoKeys[] = {"base64:demo", "demo", "changeme", "secret", "crm-ai-demo-key"};

const std::vector<std::string>& SecretNames() {
  static const std::vector<std::string> k = {
      "APP_KEY",       "DB_PASSWORD",           "REDIS_PASSWORD", "OPENAI_API_KEY",
      "MAIL_PASSWORD", "AWS_SECRET_ACCESS_KEY", "METRICS_TOKEN",  "BACKUP_PASSPHRASE"};
  return k;
}

const std::vector<std::string>& IgnoredSeedVariables() {
  static const std::vector<std::string> k = {
      "HUGGINGFACE_TOKEN", "APP_DEBUG",       "PHP_MEMORY_LIMIT", "UPLOAD_MAX_FILESIZE",
      "POST_MAX_SIZE",     "APACHE_RUN_USER", "OCTANE_SERVER"};
  return k;
}

class Reader {
 public:
  Reader(const Environment& env, const Environment& dotenv) : env_(env), dotenv_(dotenv) {}

  bool Has(const std::string& name) const { return env_.count(name) || dotenv_.count(name); }

  std::string Raw(const std::string& name) const {
    if (auto it = env_.find(name); it != env_.end()) return it->second;
    if (auto it = dotenv_.find(name); it != dotenv_.end()) return it->second;
    return {};
  }

  // A variable or, for secrets, NAME_FILE.
  Status String(const std::string& name, std::string* out) {
    if (Has(name)) {
      *out = Raw(name);
      return OkStatus();
    }
    if (Has(name + "_FILE")) {
      std::string path = Raw(name + "_FILE");
      std::ifstream in(path);
      if (!in) return Bad(name + "_FILE", path, "a readable file holding the secret");
      std::stringstream ss;
      ss << in.rdbuf();
      std::string v = ss.str();
      while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
      *out = v;
    }
    return OkStatus();
  }

  Status OneOf(const std::string& name, std::string* out,
               std::initializer_list<const char*> allowed) {
    if (!Has(name)) return OkStatus();
    std::string v = ToLowerAscii(Trim(Raw(name)));
    std::string list;
    for (const char* a : allowed) {
      if (v == a) {
        *out = v;
        return OkStatus();
      }
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    return Bad(name, Raw(name), "one of: " + list);
  }

  Status Int(const std::string& name, int64_t* out, int64_t lo, int64_t hi) {
    if (!Has(name)) return OkStatus();
    std::string v = Trim(Raw(name));
    int64_t parsed = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), parsed);
    if (ec != std::errc() || p != v.data() + v.size() || parsed < lo || parsed > hi)
      return Bad(name, Raw(name),
                 "a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
    *out = parsed;
    return OkStatus();
  }

  Status Int(const std::string& name, int* out, int lo, int hi) {
    int64_t v = *out;
    CRM_TRY(Int(name, &v, lo, hi));
    *out = static_cast<int>(v);
    return OkStatus();
  }

  Status Bool(const std::string& name, bool* out) {
    if (!Has(name)) return OkStatus();
    std::string v = ToLowerAscii(Trim(Raw(name)));
    if (v == "on" || v == "true" || v == "1" || v == "yes")
      *out = true;
    else if (v == "off" || v == "false" || v == "0" || v == "no")
      *out = false;
    else
      return Bad(name, Raw(name), "on or off (true/false, 1/0)");
    return OkStatus();
  }

  Status Url(const std::string& name, std::string* out) {
    if (!Has(name)) return OkStatus();
    std::string v = Trim(Raw(name));
    if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
      return Bad(name, v, "an http:// or https:// URL");
    while (!v.empty() && v.back() == '/') v.pop_back();
    *out = v;
    return OkStatus();
  }

  Status Rate(const std::string& name, RateLimit* out) {
    if (!Has(name)) return OkStatus();
    std::string v = ToLowerAscii(Trim(Raw(name)));
    if (v == "off") {
      out->enabled = false;
      return OkStatus();
    }
    auto slash = v.find('/');
    int n = 0;
    if (slash != std::string::npos) {
      auto [p, ec] = std::from_chars(v.data(), v.data() + slash, n);
      std::string unit = v.substr(slash + 1);
      int per = unit == "s" || unit == "sec"    ? 1
                : unit == "min" || unit == "m"  ? 60
                : unit == "h" || unit == "hour" ? 3600
                                                : 0;
      if (ec == std::errc() && p == v.data() + slash && n > 0 && per > 0) {
        *out = RateLimit{true, n, per};
        return OkStatus();
      }
    }
    return Bad(name, Raw(name), "COUNT/UNIT with UNIT s, min or h (e.g. 10/min), or off");
  }

  static Error Bad(const std::string& name, const std::string& value, const std::string& allowed) {
    bool secret = false;
    for (auto& s : SecretNames()) secret |= (name == s);
    return InvalidArgument("invalid configuration: " + name + "=" +
                           (secret ? "(hidden)" : "'" + value + "'") + "; allowed: " + allowed);
  }

 private:
  const Environment& env_;
  const Environment& dotenv_;
};

}  // namespace

const std::vector<UnbuiltBackend>& UnbuiltBackends() {
  static const std::vector<UnbuiltBackend> k = {
      {"DB_CONNECTION", &Config::db_connection, "mariadb", "sqlite"},
      {"QUEUE_CONNECTION", &Config::queue_connection, "redis", "database"},
      {"CACHE_STORE", &Config::cache_store, "redis", "memory"},
      {"STORAGE_DRIVER", &Config::storage_driver, "s3", "local"},
  };
  return k;
}

Status RefuseUnbuiltBackends(const Config& config) {
  for (const auto& b : UnbuiltBackends()) {
    if (config.*b.setting != b.value) continue;
    return Error(ErrorCode::kUnavailable, std::string(b.variable) + "=" + b.value +
                                              " is not available in this build yet; set " +
                                              b.variable + "=" + b.instead +
                                              " (or leave it unset)");
  }
  return OkStatus();
}

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

Result<Environment> ParseDotEnv(std::string_view text, const std::string& origin) {
  Environment out;
  int lineno = 0;
  for (const std::string& raw : Split(text, '\n')) {
    ++lineno;
    std::string t = Trim(raw);
    if (t.empty() || t[0] == '#') continue;
    if (t.rfind("export ", 0) == 0) t = Trim(t.substr(7));
    auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument(origin + ":" + std::to_string(lineno) + ": expected NAME=value");
    std::string key = Trim(t.substr(0, eq));
    std::string value = Trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string::npos) {
      value = Trim(value.substr(0, hash));
    }
    out[key] = value;
  }
  return out;
}

Result<Environment> ReadDotEnv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Environment{};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseDotEnv(text, path);
}

Result<Config> Load(const Environment& env, const Environment& dotenv) {
  Config c;
  Reader r(env, dotenv);
  CRM_TRY(r.OneOf("APP_ENV", &c.app_env, {"local", "production", "testing"}));
  CRM_TRY(r.String("APP_KEY", &c.app_key));
  if (r.Has("APP_HOST")) c.app_host = Trim(r.Raw("APP_HOST"));
  CRM_TRY(r.Int("APP_PORT", &c.app_port, 0, 65535));
  CRM_TRY(r.Url("APP_URL", &c.app_url));
  if (r.Has("APP_TIMEZONE")) c.app_timezone = Trim(r.Raw("APP_TIMEZONE"));
  if (r.Has("DATA_DIR")) {
    c.data_dir = Trim(r.Raw("DATA_DIR"));
    if (c.data_dir.empty()) return Reader::Bad("DATA_DIR", "", "a directory path");
  }
  CRM_TRY(r.OneOf("DB_CONNECTION", &c.db_connection, {"sqlite", "mariadb", "mysql"}));
  if (c.db_connection == "mysql") c.db_connection = "mariadb";
  if (r.Has("DB_HOST")) c.db_host = r.Raw("DB_HOST");
  CRM_TRY(r.Int("DB_PORT", &c.db_port, 1, 65535));
  if (r.Has("DB_DATABASE")) c.db_database = r.Raw("DB_DATABASE");
  if (r.Has("DB_USERNAME")) c.db_username = r.Raw("DB_USERNAME");
  CRM_TRY(r.String("DB_PASSWORD", &c.db_password));
  if (r.Has("DB_READ_HOST")) c.db_read_host = r.Raw("DB_READ_HOST");
  CRM_TRY(r.OneOf("QUEUE_CONNECTION", &c.queue_connection, {"database", "redis", "sync"}));
  if (c.queue_connection == "sync") {
    c.queue_connection = "database";
    c.notices.push_back(
        "QUEUE_CONNECTION=sync runs as database: jobs always go through the durable queue");
  }
  CRM_TRY(r.OneOf("CACHE_STORE", &c.cache_store, {"memory", "redis", "array", "file"}));
  if (c.cache_store == "array" || c.cache_store == "file") {
    c.notices.push_back("CACHE_STORE=" + c.cache_store +
                        " runs as memory: each server keeps its cache in memory");
    c.cache_store = "memory";
  }
  CRM_TRY(r.Int("CACHE_MEMORY_MB", &c.cache_memory_mb, 0, 65536));
  if (r.Has("REDIS_HOST")) c.redis_host = r.Raw("REDIS_HOST");
  CRM_TRY(r.Int("REDIS_PORT", &c.redis_port, 1, 65535));
  CRM_TRY(r.String("REDIS_PASSWORD", &c.redis_password));
  CRM_TRY(r.Int("REDIS_DB", &c.redis_db, 0, 15));
  CRM_TRY(r.Int("REDIS_CACHE_DB", &c.redis_cache_db, 0, 15));
  CRM_TRY(r.Int("QUEUE_WORKERS", &c.queue_workers, 0, 256));
  CRM_TRY(r.Int("QUEUE_TRIES", &c.queue_tries, 1, 100));
  CRM_TRY(r.Int("QUEUE_TIMEOUT", &c.queue_timeout, 1, 7 * 24 * 3600));
  CRM_TRY(r.Int("UPLOAD_MAX_BYTES", &c.upload_max_bytes, 1, int64_t{1} << 40));
  CRM_TRY(r.OneOf("STORAGE_DRIVER", &c.storage_driver, {"local", "s3"}));
  if (r.Has("AWS_ENDPOINT")) CRM_TRY(r.Url("AWS_ENDPOINT", &c.aws_endpoint));
  if (r.Has("AWS_DEFAULT_REGION")) c.aws_default_region = r.Raw("AWS_DEFAULT_REGION");
  if (r.Has("AWS_BUCKET")) c.aws_bucket = r.Raw("AWS_BUCKET");
  if (r.Has("AWS_ACCESS_KEY_ID")) c.aws_access_key_id = r.Raw("AWS_ACCESS_KEY_ID");
  CRM_TRY(r.String("AWS_SECRET_ACCESS_KEY", &c.aws_secret_access_key));
  CRM_TRY(r.Bool("AWS_USE_PATH_STYLE_ENDPOINT", &c.aws_use_path_style_endpoint));
  CRM_TRY(r.OneOf("TRANSCRIPTION_MODE", &c.transcription_mode, {"whisper_local", "openai"}));
  CRM_TRY(r.String("OPENAI_API_KEY", &c.openai_api_key));
  CRM_TRY(r.Url("OPENAI_BASE_URL", &c.openai_base_url));
  if (r.Has("OPENAI_TRANSCRIPTION_MODEL"))
    c.openai_transcription_model = r.Raw("OPENAI_TRANSCRIPTION_MODEL");
  if (r.Has("OPENAI_CHAT_MODEL")) {
    std::string m = Trim(r.Raw("OPENAI_CHAT_MODEL"));
    bool ok = !m.empty() && m.size() <= 200;
    for (unsigned char ch : m) ok = ok && ch > 0x20 && ch != 0x7F;
    if (!ok)
      return Reader::Bad("OPENAI_CHAT_MODEL", m,
                         "a model name of 1 to 200 characters without spaces");
    c.openai_chat_model = m;
  }
  CRM_TRY(r.Int("OPENAI_CHAT_TIMEOUT", &c.openai_chat_timeout, 1, 3600));
  CRM_TRY(r.Int("OPENAI_CHAT_RETRIES", &c.openai_chat_retries, 0, 10));
  if (r.Has("WHISPER_MODEL")) c.whisper_model = r.Raw("WHISPER_MODEL");
  CRM_TRY(r.Int("WHISPER_THREADS", &c.whisper_threads, 1, 1024));
  if (r.Has("TRANSCRIPTION_LANGUAGE")) {
    std::string l = ToLowerAscii(Trim(r.Raw("TRANSCRIPTION_LANGUAGE")));
    bool ok = l == "auto" || (l.size() >= 2 && l.size() <= 3);
    for (char ch : l) ok = ok && ch >= 'a' && ch <= 'z';
    if (!ok)
      return Reader::Bad("TRANSCRIPTION_LANGUAGE", l, "auto or a language code such as fr, en, de");
    c.transcription_language = l;
  }
  CRM_TRY(r.Bool("DIARIZATION", &c.diarization));
  CRM_TRY(r.OneOf("MAIL_MAILER", &c.mail_mailer, {"outbox", "smtp", "log"}));
  if (c.mail_mailer == "log") {
    c.mail_mailer = "outbox";
    c.notices.push_back(
        "MAIL_MAILER=log runs as outbox: mails are kept in the database, readable in the UI");
  }
  if (r.Has("MAIL_HOST")) c.mail_host = r.Raw("MAIL_HOST");
  CRM_TRY(r.Int("MAIL_PORT", &c.mail_port, 1, 65535));
  if (r.Has("MAIL_USERNAME")) c.mail_username = r.Raw("MAIL_USERNAME");
  CRM_TRY(r.String("MAIL_PASSWORD", &c.mail_password));
  if (r.Has("MAIL_ENCRYPTION") && !Trim(r.Raw("MAIL_ENCRYPTION")).empty())
    CRM_TRY(r.OneOf("MAIL_ENCRYPTION", &c.mail_encryption,
                    {"tls", "starttls", "ssl", "smtps", "none", "null"}));
  if (c.mail_encryption == "starttls") c.mail_encryption = "tls";
  if (c.mail_encryption == "smtps") c.mail_encryption = "ssl";
  if (c.mail_encryption == "null") c.mail_encryption = "none";
  if (r.Has("MAIL_FROM_ADDRESS")) c.mail_from_address = Trim(r.Raw("MAIL_FROM_ADDRESS"));
  if (r.Has("MAIL_FROM_NAME")) c.mail_from_name = r.Raw("MAIL_FROM_NAME");
  if (r.Has("MAIL_CA_FILE")) c.mail_ca_file = Trim(r.Raw("MAIL_CA_FILE"));
  CRM_TRY(r.Int("MAIL_CONNECT_TIMEOUT", &c.mail_connect_timeout, 1, 300));
  CRM_TRY(r.Int("MAIL_TIMEOUT", &c.mail_timeout, 1, 3600));
  CRM_TRY(r.Int("MAIL_TRIES", &c.mail_tries, 1, 50));
  CRM_TRY(r.Int("MAIL_RETRY_SECONDS", &c.mail_retry_seconds, 1, 86400));
  CRM_TRY(r.Int("MAIL_REMINDER_INTERVAL", &c.mail_reminder_interval, 0, 86400));
  CRM_TRY(r.OneOf("PDF_CONVERTER", &c.pdf_converter, {"libreoffice", "gotenberg"}));
  CRM_TRY(r.Url("GOTENBERG_URL", &c.gotenberg_url));
  CRM_TRY(r.OneOf("SUMMARY_MODE", &c.summary_mode, {"extractive", "openai"}));
  CRM_TRY(r.Int("SUMMARY_CHUNK_CHARS", &c.summary_chunk_chars, 1000, 1000000));
  CRM_TRY(r.String("METRICS_TOKEN", &c.metrics_token));
  if (r.Has("TRUSTED_PROXIES")) {
    auto t = TrustedProxies::Parse(r.Raw("TRUSTED_PROXIES"));
    if (!t.ok())
      return r.Bad("TRUSTED_PROXIES", r.Raw("TRUSTED_PROXIES"),
                   "comma-separated IP addresses and CIDR blocks, e.g. 127.0.0.1,10.0.0.0/8 (" +
                       t.error().message + ")");
    c.trusted_proxies = std::move(*t);
  }
  CRM_TRY(r.String("BACKUP_PASSPHRASE", &c.backup_passphrase));
  CRM_TRY(r.OneOf("VAD", &c.vad, {"silero", "energy"}));
  if (r.Has("VAD_MODEL")) c.vad_model = r.Raw("VAD_MODEL");
  CRM_TRY(r.Url("MODELS_BASE_URL", &c.models_base_url));
  CRM_TRY(r.Rate("RATE_LIMIT_LOGIN", &c.rate_limit_login));
  CRM_TRY(r.Rate("RATE_LIMIT_API", &c.rate_limit_api));
  CRM_TRY(r.OneOf("LOG_LEVEL", &c.log_level, {"debug", "info", "warn", "warning", "error"}));
  CRM_TRY(r.OneOf("LOG_FORMAT", &c.log_format, {"text", "json"}));
  int cores = std::max(1u, std::thread::hardware_concurrency());
  c.http_threads = std::min(cores, 4);
  CRM_TRY(r.Int("HTTP_THREADS", &c.http_threads, 1, 256));

  if (c.whisper_model.empty()) c.whisper_model = c.data_dir + "/models/ggml-base.bin";
  if (c.whisper_threads == 0) c.whisper_threads = std::max(1, cores / std::max(1, c.queue_workers));

  if (c.db_connection == "mariadb" && c.db_username.empty())
    return Reader::Bad("DB_USERNAME", "", "a user name when DB_CONNECTION=mariadb");
  if (c.storage_driver == "s3" && c.aws_bucket.empty())
    return Reader::Bad("AWS_BUCKET", "", "a bucket name when STORAGE_DRIVER=s3");
  if (c.transcription_mode == "openai" && c.openai_api_key.empty())
    return Reader::Bad("OPENAI_API_KEY", "", "a key when TRANSCRIPTION_MODE=openai");
  if (c.mail_mailer == "smtp" && c.mail_host.empty())
    return Reader::Bad("MAIL_HOST", "", "a host name when MAIL_MAILER=smtp");
  for (char ch : c.mail_from_address + c.mail_from_name)
    if (ch == '\r' || ch == '\n')
      return Reader::Bad("MAIL_FROM_ADDRESS", c.mail_from_address,
                         "an address and a name without line breaks");
  if (c.mail_from_address.find('@') == std::string::npos)
    return Reader::Bad("MAIL_FROM_ADDRESS", c.mail_from_address, "an e-mail address");
  if (!c.mail_ca_file.empty() && ::access(c.mail_ca_file.c_str(), R_OK) != 0)
    return Reader::Bad("MAIL_CA_FILE", c.mail_ca_file, "a readable PEM file of CA certificates");
  if (c.pdf_converter == "gotenberg" && c.gotenberg_url.empty())
    return Reader::Bad("GOTENBERG_URL", "", "a URL when PDF_CONVERTER=gotenberg");

  for (const auto& name : IgnoredSeedVariables())
    if (r.Has(name))
      c.notices.push_back(
          name + " is ignored: crm-ai " +
          (name == "HUGGINGFACE_TOKEN"
               ? std::string("runs its speech engines natively, without Hugging Face")
               : std::string("has no PHP/Apache layer")));
  return c;
}

Result<Config> LoadFromProcess() {
  CRM_ASSIGN_OR_RETURN(Environment dotenv, ReadDotEnv(".env"));
  return Load(ProcessEnvironment(), dotenv);
}

Status PrepareDataDir(Config& c) {
  std::error_code ec;
  for (const char* sub : {"", "/recordings", "/documents", "/models", "/backups", "/tmp"}) {
    fs::create_directories(c.data_dir + sub, ec);
    if (ec)
      return IoError("cannot create the data directory " + c.data_dir + sub + ": " + ec.message() +
                     "; set DATA_DIR to a writable directory");
  }
  if (c.app_key.empty()) {
    std::string key_path = c.data_dir + "/app.key";
    std::ifstream in(key_path);
    if (in) {
      std::getline(in, c.app_key);
    } else {
      c.app_key = "base64:" + RandomToken(32);
      std::string tmp = key_path + ".tmp";
      {
        std::ofstream out(tmp, std::ios::trunc);
        out << c.app_key << "\n";
        if (!out) return IoError("cannot write " + tmp);
      }
      ::chmod(tmp.c_str(), 0600);
      fs::rename(tmp, key_path, ec);
      if (ec) return IoError("cannot write " + key_path + ": " + ec.message());
    }
  }
  if (c.is_production()) {
    for (const char* demo : kDemoKeys)
      if (c.app_key == demo)
        return InvalidArgument(
            "invalid configuration: APP_KEY is a demo secret; APP_ENV=production needs a real "
            "random key (unset APP_KEY to have one generated)");
    if (c.app_key.size() < 16)
      return InvalidArgument(
          "invalid configuration: APP_KEY is too short for production (at least 16 characters)");
  }
  return OkStatus();
}

std::vector<std::string> Describe(const Config& c) {
  auto secret = [](const std::string& v) { return v.empty() ? "(unset)" : "(set)"; };
  return {
      "APP_ENV=" + c.app_env,
      "APP_KEY=" + std::string(secret(c.app_key)),
      "APP_HOST=" + c.app_host,
      "APP_PORT=" + std::to_string(c.app_port),
      "DATA_DIR=" + c.data_dir,
      "DB_CONNECTION=" + c.db_connection,
      "QUEUE_CONNECTION=" + c.queue_connection,
      "CACHE_STORE=" + c.cache_store,
      "STORAGE_DRIVER=" + c.storage_driver,
      "MAIL_MAILER=" + c.mail_mailer,
      "MAIL_HOST=" + c.mail_host +
          (c.mail_mailer == "smtp" ? ":" + std::to_string(c.mail_port) : ""),
      "MAIL_PASSWORD=" + std::string(secret(c.mail_password)),
      "PDF_CONVERTER=" + c.pdf_converter,
      "SUMMARY_MODE=" + c.summary_mode,
      "OPENAI_CHAT_MODEL=" + c.openai_chat_model,
      "TRANSCRIPTION_MODE=" + c.transcription_mode,
      "OPENAI_API_KEY=" + std::string(secret(c.openai_api_key)),
      "WHISPER_MODEL=" + c.whisper_model,
      "VAD=" + c.vad,
  };
}

}  // namespace crm::config
