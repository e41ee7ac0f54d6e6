// The web application at `/`: the files the build puts beside the executable (web/, made by
// Vite from the sources in web/ of the repository), read once at start-up into memory with a
// gzip copy of each compressible file. Hashed assets are cached for a year; index.html is
// revalidated on every load so a new version is picked up at once; every path that is not the
// API's (/api, /v1, /health, /metrics) and not a file gets index.html, where the client-side
// router takes over.
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "api/app.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/text.h"

namespace crm::api {

using http::AuthMode;
using http::Request;
using http::Response;

namespace {

struct WebFile {
  std::string content_type;
  std::string cache_control;
  std::shared_ptr<const std::string> body;
  std::shared_ptr<const std::string> gzip;  // null when not worth it
};

using WebFiles = std::map<std::string, WebFile, std::less<>>;  // "assets/index-x.js" → file

std::string ContentType(const std::string& ext) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},          {".svg", "image/svg+xml"},
      {".png", "image/png"},                  {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},               {".woff", "font/woff"},
      {".txt", "text/plain; charset=utf-8"},  {".webmanifest", "application/manifest+json"},
      {".wasm", "application/wasm"}};
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool Compressible(const std::string& type) {
  return type.rfind("text/", 0) == 0 || type.find("json") != std::string::npos ||
         type.find("svg") != std::string::npos || type == "application/wasm";
}

// gzip (not zlib) framing: windowBits 15 + 16.
std::shared_ptr<const std::string> Gzip(const std::string& in) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return nullptr;
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  size_t n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END || n + 64 >= in.size()) return nullptr;
  out.resize(n);
  return std::make_shared<const std::string>(std::move(out));
}

WebFiles LoadWebFiles(const std::string& dir) {
  namespace fs = std::filesystem;
  WebFiles files;
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec)) return files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (ec || rel.empty() || rel[0] == '.') continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    WebFile f;
    f.content_type = ContentType(it->path().extension().string());
    // Vite names every file under assets/ after its content hash: it never changes.
    f.cache_control = rel == "index.html"               ? "no-cache"
                      : rel.rfind("assets/", 0) == 0 ? "public, max-age=31536000, immutable"
                                                     : "public, max-age=3600";
    auto body = std::make_shared<const std::string>(buf.str());
    if (Compressible(f.content_type)) f.gzip = Gzip(*body);
    f.body = std::move(body);
    files.emplace(std::move(rel), std::move(f));
  }
  return files;
}

bool AcceptsGzip(const Request& req) {
  for (auto& part : Split(req.Header("Accept-Encoding"), ',')) {
    std::string p = ToLowerAscii(Trim(part));
    if (p == "gzip" || (p.rfind("gzip;", 0) == 0 && p.find("q=0") == std::string::npos))
      return true;
  }
  return false;
}

Response Serve(const WebFile& f, const Request& req) {
  Response r;
  r.status = 200;
  r.content_type = f.content_type;
  bool gz = f.gzip && AcceptsGzip(req);
  r.shared_body = gz ? f.gzip : f.body;
  r.Header("Cache-Control", f.cache_control);
  if (f.gzip) r.Header("Vary", "Accept-Encoding");
  if (gz) r.Header("Content-Encoding", "gzip");
  return r;
}

// The paths the server answers itself; everything else may be the web application's.
bool IsWebPath(const std::string& path) {
  for (const char* api : {"/api", "/v1", "/health", "/metrics"}) {
    size_t n = std::strlen(api);
    if (path.compare(0, n, api) == 0 && (path.size() == n || path[n] == '/')) return false;
  }
  return true;
}

const char* kNotBuiltPage = R"html(<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>crm-ai</title></head><body>
<h1>crm-ai</h1>
<p>L'application web n'est pas installée à côté de l'exécutable (dossier <code>web/</code>) :
construisez-la avec <code>make build</code>. L'API répond sous <a href="/api/openapi.json">/api</a>.</p>
<p lang="en">The web application is not installed beside the executable (folder <code>web/</code>):
build it with <code>make build</code>. The API answers under <a href="/api/openapi.json">/api</a>.</p>
</body></html>
)html";

}  // namespace

void RegisterWebRoutes(http::Router& r, App& app) {
  (void)app;
  std::string dir = ExecutableDir() + "/web";
  auto files = std::make_shared<const WebFiles>(LoadWebFiles(dir));
  if (files->empty())
    log::Warn("web application not found; / explains how to build it", {{"dir", dir}});
  else
    log::Info("web application loaded", {{"dir", dir}, {"files", files->size()}});
  http::RouteOptions page{.auth = AuthMode::kNone, .rate_limited = false, .light = true};
  r.SetFallback(IsWebPath, [files](Request& req) {
    if (files->empty()) {
      Response res = Response::Text(503, kNotBuiltPage, "text/html; charset=utf-8");
      res.Header("Cache-Control", "no-cache");
      return res;
    }
    std::string rel = req.path.empty() ? "" : req.path.substr(1);
    if (auto it = files->find(rel); it != files->end() && rel != "index.html")
      return Serve(it->second, req);
    // A missing file (a chunk of an older version, a typo) is a 404, not the index page: a
    // script tag given HTML fails with a confusing MIME error instead of a clear one.
    std::string last = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
    if (last.find('.') != std::string::npos)
      return Response::FromError(NotFound("Fichier introuvable. / No such file: " + req.path));
    return Serve(files->at("index.html"), req);
  }, page);
}

}  // namespace crm::api
