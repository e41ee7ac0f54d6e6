// The configuration of crm-ai, read from the environment, then from a `.env` file in the working
// directory (the environment wins). This module is the only code that reads the environment.
//
// Every variable of docs/reference.md ("Configuration") has a field here with its default. Load()
// validates all of them and fails with the variable's name, the bad value and what is allowed.
// Secrets may be given as NAME_FILE (path of a file holding the value); they are never logged:
// Describe() redacts them.
//
// A value the reference allows but whose backend this build does not contain (MariaDB, Redis,
// S3, ...) is valid configuration and still refused at start by RefuseUnbuiltBackends(), so an
// installation never runs on something other than what it asked for.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/forwarded.h"
#include "common/result.h"

namespace crm::config {

struct RateLimit {
  bool enabled = true;
  int count = 10;
  int per_seconds = 60;
};

struct Config {
  std::string app_env = "local";  // local | production
  std::string app_key;            // from APP_KEY or DATA_DIR/app.key (generated)
  std::string app_host = "127.0.0.1";
  int app_port = 8000;
  std::string app_url = "http://localhost:8000";
  std::string app_timezone = "Europe/Paris";
  std::string data_dir = "./storage";

  std::string db_connection = "sqlite";  // sqlite | mariadb
  std::string db_host = "127.0.0.1";
  int db_port = 3306;
  std::string db_database = "crm_ai";
  std::string db_username;
  std::string db_password;
  std::string db_read_host;

  std::string queue_connection = "database";  // database | redis
  std::string cache_store = "memory";         // memory | redis
  int cache_memory_mb = 32;                   // list pages kept in memory per server; 0: none
  std::string redis_host = "127.0.0.1";
  int redis_port = 6379;
  std::string redis_password;
  int redis_db = 0;
  int redis_cache_db = 1;
  int queue_workers = 1;
  int queue_tries = 3;
  int queue_timeout = 300;
  int64_t upload_max_bytes = 209715200;

  std::string storage_driver = "local";  // local | s3
  std::string aws_endpoint, aws_default_region = "us-east-1", aws_bucket, aws_access_key_id,
                            aws_secret_access_key;
  bool aws_use_path_style_endpoint = false;

  std::string transcription_mode = "whisper_local";  // whisper_local | openai
  std::string openai_api_key;
  std::string openai_base_url = "https://api.openai.com/v1";
  std::string openai_transcription_model = "whisper-1";
  std::string openai_chat_model = "gpt-4o-mini";  // SUMMARY_MODE=openai
  int openai_chat_timeout = 120;                  // seconds per chat request
  int openai_chat_retries = 4;                    // after the first attempt
  std::string whisper_model;                      // default DATA_DIR/models/ggml-base.bin
  int whisper_threads = 0;                        // default cores / queue_workers (at least 1)
  std::string transcription_language = "fr";
  bool diarization = true;

  std::string mail_mailer = "outbox";  // outbox | smtp
  std::string mail_host, mail_username, mail_password;
  std::string mail_encryption;  // "" (STARTTLS when offered) | tls (STARTTLS required) | ssl | none
  int mail_port = 587;
  std::string mail_from_address = "no-reply@crm-ai.local";
  std::string mail_from_name = "crm-ai";
  std::string mail_ca_file;       // MAIL_CA_FILE: PEM CA bundle for a private CA; empty = system's
  int mail_connect_timeout = 10;  // seconds
  int mail_timeout = 60;          // seconds for a whole SMTP exchange
  int mail_tries = 5;             // attempts before a mail stays failed
  int mail_retry_seconds = 60;    // first retry delay; doubles each attempt, at most 1 h
  int mail_reminder_interval = 900;  // seconds between task-reminder runs; 0 = none

  std::string pdf_converter = "libreoffice";  // libreoffice | gotenberg
  std::string gotenberg_url;
  std::string summary_mode = "extractive";  // extractive | openai
  int summary_chunk_chars = 24000;          // transcript characters per chat request
  std::string metrics_token;
  // TRUSTED_PROXIES: reverse proxies whose X-Forwarded-For names the client (addresses and CIDR
  // blocks, comma-separated); empty: none, the peer is the client.
  TrustedProxies trusted_proxies;
  std::string backup_passphrase;
  std::string vad = "silero";  // silero | energy
  std::string vad_model;       // default: beside the executable
  std::string models_base_url = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main";

  RateLimit rate_limit_login{true, 10, 60};
  RateLimit rate_limit_api{true, 600, 60};

  std::string log_level = "info";
  std::string log_format;  // text | json; empty = text on a TTY else json

  int http_threads = 0;  // HTTP_THREADS: I/O threads, default min(cores, 4)

  // Informational lines produced while loading (ignored seed variables...), to be logged.
  std::vector<std::string> notices;

  bool is_production() const { return app_env == "production"; }
  // Cookies get the Secure attribute when the public URL is HTTPS.
  bool secure_cookies() const { return app_url.rfind("https://", 0) == 0; }
  std::string DatabasePath() const { return data_dir + "/crm-ai.sqlite3"; }
};

// Variables as a map (tests pass their own; main passes the process environment).
using Environment = std::map<std::string, std::string>;
Environment ProcessEnvironment();
// Reads KEY=VALUE lines (comments, blank lines, optional quotes, `export ` prefix). Missing file
// → empty map.
Result<Environment> ReadDotEnv(const std::string& path);
// The same from the text of such a file; `origin` names it in errors ("PATH:LINE: ...").
Result<Environment> ParseDotEnv(std::string_view text, const std::string& origin);

// Builds the configuration: `env` first, then `dotenv` for what env lacks.
Result<Config> Load(const Environment& env, const Environment& dotenv);
// Load(ProcessEnvironment(), ReadDotEnv("./.env")).
Result<Config> LoadFromProcess();

// Creates DATA_DIR (and its sub-folders) and, when APP_KEY is unset, reads or generates
// DATA_DIR/app.key (mode 0600). Fails in production with a demo key.
Status PrepareDataDir(Config& config);

// A variable's value that the reference allows but this build has no backend for: one entry per
// variable and value, removed when that backend lands.
struct UnbuiltBackend {
  const char* variable;          // e.g. "STORAGE_DRIVER"
  std::string Config::*setting;  // the field holding it
  const char* value;             // e.g. "s3"
  const char* instead;           // the value that works in this build
};
const std::vector<UnbuiltBackend>& UnbuiltBackends();
// Fails (kUnavailable) with one line naming the first configured value whose backend this build
// does not contain and what to set instead.
Status RefuseUnbuiltBackends(const Config& config);

// Name=value lines for `doctor`, with secrets shown as "(set)" / "(unset)".
std::vector<std::string> Describe(const Config& config);

}  // namespace crm::config
