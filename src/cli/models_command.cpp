// `crm-ai models`: the Whisper model files in $DATA_DIR/models (size, weight type, model size,
// languages). `crm-ai models pull NAME [--sha256 HEX] [--force]`: downloads ggml-NAME.bin from
// $MODELS_BASE_URL (default: the whisper.cpp model repository on Hugging Face), verifying its
// SHA-256 against --sha256, else a NAME.sha256 file published beside it, else the checksum the
// server announces for the file (Hugging Face's X-Linked-Etag); with none of these it refuses.
// The file is written as a hidden .part file and renamed only once verified and readable as a
// model. Nothing else ever downloads: only a user running this command.
#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "asr/whisper/model_file.h"
#include "cli/engine_commands.h"
#include "config/config.h"

namespace crm::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: crm-ai models                      list the model files in $DATA_DIR/models\n"
    "       crm-ai models pull NAME [--sha256 HEX] [--force]\n"
    "                                          download ggml-NAME.bin (tiny, base, small, "
    "medium, large-v3, large-v3-turbo, base.en, ...) from $MODELS_BASE_URL";
int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "crm-ai models: %s\n", message.c_str());
  return code;
}

std::string ModelsDir(const config::Config& config) { return config.data_dir + "/models"; }

bool IsSha256(const std::string& s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(c) != 0; });
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Describe(const std::string& path) {
  auto hp = asr::whisper::ReadHParams(path);
  if (!hp.ok()) return "unreadable: " + hp.error().message;
  const bool multilingual = hp->n_vocab >= 51865;
  const int languages = multilingual ? hp->n_vocab - 51765 - 1 : 1;
  char buf[160];
  std::snprintf(buf, sizeof buf, "%-6s %-16s %s", asr::whisper::FtypeName(hp->ftype).c_str(),
                asr::whisper::SizeNameOf(*hp).c_str(),
                multilingual ? ("multilingual (" + std::to_string(languages) + ")").c_str()
                             : "English only");
  return buf;
}

int List(const config::Config& config) {
  const std::string dir = ModelsDir(config);
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.is_regular_file() && e.path().extension() == ".bin" &&
          e.path().filename().string()[0] != '.')
        files.push_back(e.path());
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr,
                 "crm-ai models: no model files in %s (download one with: crm-ai models pull "
                 "base)\n",
                 dir.c_str());
    return 0;
  }
  std::printf("%-28s %10s %-6s %-16s %s\n", "FILE", "SIZE (MB)", "TYPE", "MODEL", "LANGUAGES");
  for (const auto& f : files) {
    const double mb = static_cast<double>(fs::file_size(f, ec)) / (1024.0 * 1024.0);
    std::printf("%-28s %10.1f %s\n", f.filename().c_str(), mb, Describe(f.string()).c_str());
  }
  return 0;
}

struct Download {
  FILE* out = nullptr;
  crypto_hash_sha256_state sha;
  std::string body;  // when out == nullptr
  std::string announced_sha;
  int64_t bytes = 0;
};

size_t OnData(char* data, size_t size, size_t n, void* user) {
  auto* d = static_cast<Download*>(user);
  const size_t len = size * n;
  if (d->out == nullptr) {
    if (d->body.size() + len > 4096) return 0;  // a checksum file is small
    d->body.append(data, len);
    return len;
  }
  crypto_hash_sha256_update(&d->sha, reinterpret_cast<const unsigned char*>(data), len);
  d->bytes += static_cast<int64_t>(len);
  return std::fwrite(data, 1, len, d->out);
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* d = static_cast<Download*>(user);
  std::string line(data, size * n);
  const size_t colon = line.find(':');
  if (colon != std::string::npos && d->announced_sha.empty()) {
    const std::string name = Lower(line.substr(0, colon));
    std::string value = line.substr(colon + 1);
    value.erase(std::remove_if(value.begin(), value.end(),
                               [](char c) { return c == '"' || std::isspace(
                                                                   static_cast<unsigned char>(c)); }),
                value.end());
    if ((name == "x-linked-etag" || name == "etag") && IsSha256(value))
      d->announced_sha = Lower(value);
  }
  return size * n;
}

// GET `url` into `d`; returns the HTTP status, or -1 with *error set.
long Get(const std::string& url, Download* d, std::string* error) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    *error = "cannot start the HTTP client";
    return -1;
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "crm-ai");
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, d);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, d);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    *error = curl_easy_strerror(rc);
    return -1;
  }
  return status;
}

int Pull(const config::Config& config, const std::vector<std::string>& args) {
  std::string name, expected;
  bool force = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--sha256" && i + 1 < args.size()) {
      expected = Lower(args[++i]);
      if (!IsSha256(expected)) return Fail(2, "--sha256 needs 64 hexadecimal digits");
    } else if (a.rfind("--sha256=", 0) == 0) {
      expected = Lower(a.substr(9));
      if (!IsSha256(expected)) return Fail(2, "--sha256 needs 64 hexadecimal digits");
    } else if (a == "--force") {
      force = true;
    } else if (a.rfind("-", 0) == 0) {
      return Fail(2, "unknown option " + a + "\n" + kUsage);
    } else if (name.empty()) {
      name = a;
    } else {
      return Fail(2, "only one NAME may be given");
    }
  }
  if (name.empty()) return Fail(2, std::string("missing NAME\n") + kUsage);
  if (name.rfind("ggml-", 0) == 0) name = name.substr(5);
  if (name.size() > 4 && name.substr(name.size() - 4) == ".bin") name.resize(name.size() - 4);
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
      }))
    return Fail(2, "invalid model name '" + name + "' (examples: base, small.en, large-v3)");

  const std::string file = "ggml-" + name + ".bin";
  const std::string dir = ModelsDir(config);
  const std::string final_path = dir + "/" + file;
  std::error_code ec;
  if (fs::exists(final_path, ec) && !force) {
    std::fprintf(stderr, "crm-ai models: %s is already present (use --force to download again)\n",
                 final_path.c_str());
    std::printf("%s\n", final_path.c_str());
    return 0;
  }
  fs::create_directories(dir, ec);
  if (ec) return Fail(1, "cannot create " + dir + ": " + ec.message());
  std::string base = config.models_base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/" + file;

  if (sodium_init() < 0) return Fail(1, "cannot initialise the checksum library");
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::string error;
  if (expected.empty()) {  // a checksum file published beside the model?
    Download side;
    if (Get(url + ".sha256", &side, &error) == 200) {
      std::string first = side.body.substr(0, side.body.find_first_of(" \t\r\n"));
      if (IsSha256(first)) expected = Lower(first);
    }
  }
  const std::string part = dir + "/." + file + ".part";
  Download d;
  d.out = std::fopen(part.c_str(), "wb");
  if (d.out == nullptr) return Fail(1, "cannot write " + part);
  crypto_hash_sha256_init(&d.sha);
  std::fprintf(stderr, "crm-ai models: downloading %s\n", url.c_str());
  const long status = Get(url, &d, &error);
  const bool closed = std::fclose(d.out) == 0;
  auto discard = [&](int code, const std::string& message) {
    fs::remove(part, ec);
    return Fail(code, message);
  };
  if (status < 0) return discard(1, "download of " + url + " failed: " + error);
  if (status != 200)
    return discard(1, "download of " + url + " failed: HTTP " + std::to_string(status));
  if (!closed) return discard(1, "cannot write " + part + " (disk full?)");
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&d.sha, digest);
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  if (expected.empty()) expected = d.announced_sha;
  if (expected.empty())
    return discard(1, "no checksum is published for " + file +
                          "; pass the expected one with --sha256 HEX");
  if (expected != hex)
    return discard(1, "checksum mismatch for " + file + ": expected " + expected + ", got " + hex +
                          " (the download was discarded)");
  auto hp = asr::whisper::ReadHParams(part);
  if (!hp.ok()) return discard(1, file + " is not a Whisper model: " + hp.error().message);
  fs::rename(part, final_path, ec);
  if (ec) return discard(1, "cannot move the download to " + final_path + ": " + ec.message());
  std::fprintf(stderr, "crm-ai models: %s verified (sha256 %s, %lld bytes)\n", file.c_str(), hex,
               static_cast<long long>(d.bytes));
  std::printf("%s\n", final_path.c_str());
  return 0;
}

}  // namespace

int RunModels(const std::vector<std::string>& args) {
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::printf("%s\n", kUsage);
    return 0;
  }
  auto config = config::LoadFromProcess();
  if (!config.ok()) return Fail(2, config.error().message);
  if (args.empty()) return List(*config);
  if (args[0] == "pull") return Pull(*config, std::vector<std::string>(args.begin() + 1, args.end()));
  if (args[0] == "list") return List(*config);
  return Fail(2, "unknown sub-command '" + args[0] + "'\n" + kUsage);
}

}  // namespace crm::cli
