#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <future>
#include <list>
#include <mutex>
#include <thread>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "http/error_map.h"

namespace crm::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string PercentDecode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::multimap<std::string, std::string> ParseQuery(std::string_view q) {
  std::multimap<std::string, std::string> out;
  for (auto& part : Split(q, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string k = PercentDecode(part.substr(0, eq), true);
    std::string v = eq == std::string::npos ? "" : PercentDecode(part.substr(eq + 1), true);
    out.emplace(std::move(k), std::move(v));
  }
  return out;
}

namespace {

const char* kCsp =
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' "
    "'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'";

const std::pair<std::string_view, std::string_view> kSecurityHeaders[] = {
    {"X-Content-Type-Options", "nosniff"},
    {"X-Frame-Options", "DENY"},
    {"Referrer-Policy", "same-origin"},
    {"Content-Security-Policy", kCsp},
};

bool IsUnsafeMethod(const std::string& m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

}  // namespace

class Session;

struct Server::Impl {
  ServerOptions opts;
  Router router;
  Middleware mw;
  // One io_context per I/O thread, each run by its thread alone (as nginx's workers): a
  // connection stays on one thread, and threads never contend for one shared scheduler. The
  // first also runs the acceptor, which deals connections out in turn.
  net::io_context ioc{1};
  std::vector<std::unique_ptr<net::io_context>> more_iocs;
  size_t next_ioc = 0;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<net::thread_pool> handlers;
  std::vector<std::thread> io_threads;
  std::atomic<int> inflight{0};
  std::atomic<int> streams{0};
  std::atomic<int> lingering{0};  // connections in their lingering close (see ServerOptions)
  std::atomic<bool> stopping{false};
  int bound_port = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::list<std::weak_ptr<Session>> sessions;

  Impl(ServerOptions o, Router r, Middleware m)
      : opts(std::move(o)), router(std::move(r)), mw(std::move(m)) {}

  void Accept();
  void Register(const std::shared_ptr<Session>& s);
  void CloseIdleSessions();
  void RequestFinished() {
    if (inflight.fetch_sub(1) == 1) {
      std::lock_guard lock(mu);
      cv.notify_all();
    }
  }
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Server::Impl* server) : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    remote_ip_ = ec ? "" : ep.address().to_string();
  }

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(true); });
  }

  // Called on shutdown: a connection waiting for its next request is closed.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->idle_) {
        beast::error_code ec;
        self->stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
        self->stream_.close();
      }
    });
  }

 private:
  // ---- 1. headers, on the I/O thread ----
  void ReadHeader(bool first) {
    idle_ = true;
    body_pending_ = false;
    if (server_->stopping) return Close();
    header_parser_.emplace();
    header_parser_->header_limit(static_cast<std::uint32_t>(server_->opts.max_header_bytes));
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    stream_.expires_after(first ? server_->opts.header_timeout : server_->opts.keepalive_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *header_parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        server_->inflight++;
        started_ = std::chrono::steady_clock::now();
        keep_alive_ = false;
        body_pending_ = true;
        return Send(
            PathErrorResponse(std::string(header_parser_->get().target()),
                              Error(ErrorCode::kPayloadTooLarge,
                                    "En-têtes trop volumineux. / Request headers too large.")),
            431);
      }
      static const auto& http_category = beast::error_code(bhttp::error::bad_target).category();
      if (ec.category() == http_category && ec != bhttp::error::end_of_stream &&
          ec != bhttp::error::partial_message) {
        // Malformed request line or headers.
        log::Debug("malformed request", {{"error", ec.message()}});
        server_->inflight++;
        started_ = std::chrono::steady_clock::now();
        keep_alive_ = false;
        body_pending_ = true;
        return Send(PathErrorResponse(
            std::string(header_parser_->get().target()),
            Error(ErrorCode::kBadRequest, "Requête HTTP invalide. / Malformed HTTP request.")));
      }
      return Close();
    }
    idle_ = false;
    server_->inflight++;
    started_ = std::chrono::steady_clock::now();
    stream_.expires_never();
    const auto& h = header_parser_->get();
    req_ = Request();
    req_.method = std::string(h.method_string());
    req_.target = std::string(h.target());
    auto qpos = req_.target.find('?');
    req_.path = PercentDecode(std::string_view(req_.target).substr(0, qpos), false);
    if (qpos != std::string::npos)
      req_.query = ParseQuery(std::string_view(req_.target).substr(qpos + 1));
    for (const auto& f : h) {
      std::string name(f.name_string());
      auto it = req_.headers.find(name);
      if (it == req_.headers.end())
        req_.headers.emplace(name, std::string(f.value()));
      else
        it->second += ", " + std::string(f.value());
    }
    const TrustedProxies& proxies = server_->opts.trusted_proxies;
    req_.remote_ip = proxies.empty() ? remote_ip_
                                     : proxies.ClientAddress(remote_ip_, req_.Header("X-Forwarded-For"));
    std::string rid = req_.Header("X-Request-Id");
    bool rid_ok = !rid.empty() && rid.size() <= 64;
    for (char c : rid)
      rid_ok = rid_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    req_.request_id = rid_ok ? rid : NewId();
    keep_alive_ = h.keep_alive();
    if (auto cl = header_parser_->content_length())
      content_length_ = *cl;
    else
      content_length_.reset();
    chunked_ = header_parser_->chunked();
    auto m = server_->router.Match(req_.method, req_.path);
    if (m.route && m.route->options.light && !chunked_ && content_length_.value_or(0) == 0)
      return Prepare(std::move(m));
    net::post(*server_->handlers, [self = shared_from_this(), m = std::move(m)]() mutable {
      self->Prepare(std::move(m));
    });
  }

  // ---- 2. route + middleware, on the handler pool (or inline for light routes) ----
  void Prepare(RouteMatch m) {
    std::optional<Response> reject;
    int retry_after = 0;
    if (!m.route) {
      if (m.path_exists) {
        reject = PathErrorResponse(
            req_.path,
            Error(ErrorCode::kBadRequest,
                  "Méthode non autorisée pour cette adresse. / Method not allowed on this path.",
                  nullptr, "method_not_allowed"));
        reject->status = 405;
        reject->Header("Allow", m.allowed);
      } else {
        reject = PathErrorResponse(req_.path,
                                   NotFound("Adresse inconnue. / No such endpoint: " + req_.path));
      }
    } else {
      route_ = m.route;
      req_.params = std::move(m.params);
      req_.route_pattern = route_->pattern;
      const auto& o = route_->options;
      if (o.auth != AuthMode::kNone && server_->mw.authenticate) {
        auto p = server_->mw.authenticate(req_);
        if (!p.ok())
          reject = ErrorResponse(p.error());
        else
          req_.principal = *p;
      }
      if (!reject && o.auth == AuthMode::kRequired && !req_.principal.authenticated)
        reject = ErrorResponse(Error(ErrorCode::kUnauthenticated,
                                     "Authentification requise. / Authentication required."));
      if (!reject && req_.principal.authenticated && o.auth == AuthMode::kRequired &&
          !RoleAtLeast(req_.principal.role, o.min_role) &&
          !(o.platform_admin_too && req_.principal.is_platform_admin()))
        reject = ErrorResponse(Error(
            ErrorCode::kForbidden,
            "Vous n'avez pas les droits nécessaires. / You do not have permission to do this."));
      if (!reject && o.csrf && req_.principal.via_session && IsUnsafeMethod(req_.method)) {
        std::string token = req_.Header("X-CSRF-Token");
        if (token.empty() || !ConstantTimeEquals(token, req_.principal.csrf_token))
          reject = ErrorResponse(Error(ErrorCode::kForbidden,
                                       "Jeton CSRF manquant ou invalide : rechargez la page. / "
                                       "Missing or invalid CSRF token.",
                                       nullptr, "csrf_failed"));
      }
      if (!reject && o.rate_limited && server_->mw.rate_limit) {
        if (auto wait = server_->mw.rate_limit(req_)) {
          retry_after = *wait;
          reject = ErrorResponse(
              Error(ErrorCode::kRateLimited,
                    "Trop de requêtes, réessayez plus tard. / Too many requests, retry later."));
          reject->Header("Retry-After", std::to_string(retry_after));
        }
      }
      if (!reject) reject = CheckQueryText();
      if (!reject) {
        if (o.body_sink) {
          auto sink = o.body_sink(req_, content_length_);
          if (!sink.ok())
            reject = ErrorResponse(sink.error());
          else
            sink_ = std::move(sink).value();
        } else if (content_length_ && *content_length_ > o.max_body) {
          reject = ErrorResponse(Error(ErrorCode::kPayloadTooLarge,
                                       "Corps de requête trop volumineux (maximum " +
                                           std::to_string(o.max_body) +
                                           " octets). / Request body too large.",
                                       {{"max_bytes", o.max_body}}));
        }
      }
    }
    // A request without a body goes straight to its handler on this thread: no round trip
    // through the I/O thread in between.
    if (!reject && !sink_ && !chunked_ && content_length_.value_or(0) == 0) {
      Response res = CallHandler();
      // dispatch: a light route is already on the connection's strand and sends right away.
      net::dispatch(stream_.get_executor(),
                    [self = shared_from_this(), res = std::move(res)]() mutable {
                      self->Send(std::move(res));
                    });
      return;
    }
    net::post(stream_.get_executor(),
              [self = shared_from_this(), reject = std::move(reject)]() mutable {
                if (reject) {
                  // The body was not read: the connection cannot be reused, and it lingers after
                  // the answer so that a client still sending its body reads the answer. A client
                  // that sent `Expect: 100-continue` gets this final status instead of 100 and
                  // sends no body.
                  self->body_pending_ = self->content_length_.value_or(0) > 0 || self->chunked_;
                  self->keep_alive_ = self->keep_alive_ && !self->body_pending_;
                  self->Send(std::move(*reject));
                } else {
                  self->ReadBody();
                }
              });
  }

  // Query parameters are text: invalid UTF-8 or a NUL byte (after percent-decoding) is a 422
  // naming the parameter, never an empty page or a search for garbage.
  std::optional<Response> CheckQueryText() const {
    nlohmann::json problems = nlohmann::json::object();
    for (const auto& [k, v] : req_.query) {
      std::string name =
          IsValidUtf8(k) && k.find('\0') == std::string::npos ? k : "(parameter name)";
      if (!IsValidUtf8(k) || !IsValidUtf8(v))
        problems[name] = "invalid_utf8";
      else if (k.find('\0') != std::string::npos || v.find('\0') != std::string::npos)
        problems[name] = "nul_byte";
    }
    if (problems.empty()) return std::nullopt;
    return ErrorResponse(
        Error(ErrorCode::kInvalidArgument,
              "Paramètre de requête invalide : texte UTF-8 attendu, sans octet nul. / "
              "Invalid query parameter: UTF-8 text without NUL bytes expected.",
              problems));
  }

  // ---- 3. body, on the I/O thread ----
  void ReadBody() {
    bool expects_continue = beast::iequals(req_.Header("Expect"), "100-continue");
    if (expects_continue) {
      auto cont = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      net::async_write(stream_, net::buffer(*cont),
                       [self = shared_from_this(), cont](beast::error_code ec, size_t) {
                         if (ec) return self->AbortRequest();
                         self->ReadBodyNow();
                       });
      return;
    }
    ReadBodyNow();
  }

  void ReadBodyNow() {
    if (sink_) {
      buffer_parser_.emplace(std::move(*header_parser_));
      buffer_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
      // Beast reads as much as the buffer's free capacity: left at the header's few KiB, a
      // 200 MB upload arrives in ~6 KiB recv calls (13,000 syscalls a second per core, each
      // with its write(2) and hash update). Large reads for the body, memory given back after.
      body_chunk_ = std::make_unique<char[]>(kBodyChunk);
      buffer_.reserve(kBodyChunk);
      return ReadSinkChunk();
    }
    string_parser_.emplace(std::move(*header_parser_));
    string_parser_->body_limit(route_->options.max_body);
    stream_.expires_after(server_->opts.body_idle_timeout);
    bhttp::async_read(stream_, buffer_, *string_parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec == bhttp::error::body_limit) {
                          self->keep_alive_ = false;
                          self->body_pending_ = true;
                          return self->Send(self->ErrorResponse(
                              Error(ErrorCode::kPayloadTooLarge,
                                    "Corps de requête trop volumineux (maximum " +
                                        std::to_string(self->route_->options.max_body) +
                                        " octets). / Request body too large.",
                                    {{"max_bytes", self->route_->options.max_body}})));
                        }
                        if (ec) return self->BodyFailed(ec);
                        self->stream_.expires_never();
                        self->req_.body = std::move(self->string_parser_->get().body());
                        self->RunHandler();
                      });
  }

  void ReadSinkChunk() {
    if (buffer_parser_->is_done()) {
      stream_.expires_never();
      Status st = sink_->Finish(req_);
      if (!st.ok()) {
        sink_.reset();
        return Send(ErrorResponse(st.error()));
      }
      sink_.reset();
      return RunHandler();
    }
    buffer_parser_->get().body().data = body_chunk_.get();
    buffer_parser_->get().body().size = kBodyChunk;
    stream_.expires_after(server_->opts.body_idle_timeout);
    bhttp::async_read_some(stream_, buffer_, *buffer_parser_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (ec == bhttp::error::need_buffer) ec = {};
                             if (ec) {
                               self->sink_->Abort();
                               self->sink_.reset();
                               return self->BodyFailed(ec);
                             }
                             size_t n = kBodyChunk - self->buffer_parser_->get().body().size;
                             if (n > 0) {
                               self->streamed_bytes_ += n;
                               Status st = self->sink_->Write(self->body_chunk_.get(), n);
                               if (!st.ok()) {
                                 self->sink_->Abort();
                                 self->sink_.reset();
                                 self->keep_alive_ = false;
                                 self->body_pending_ = true;
                                 return self->Send(self->ErrorResponse(st.error()));
                               }
                             }
                             self->ReadSinkChunk();
                           });
  }

  // The body did not arrive whole. Cut short (EOF before the announced length) or malformed
  // (a bad chunk): the client may still be reading, so it is told with a 400. A timeout or a
  // reset: nobody is there to read, the connection is closed.
  void BodyFailed(beast::error_code ec) {
    static const auto& http_category = beast::error_code(bhttp::error::bad_target).category();
    if (ec.category() != http_category) return AbortRequest();
    keep_alive_ = false;
    bool truncated = ec == bhttp::error::partial_message;
    body_pending_ = !truncated;
    Send(ErrorResponse(
        truncated
            ? Error(ErrorCode::kBadRequest,
                    "Corps de requête incomplet : la connexion s'est fermée avant sa fin. / "
                    "Request body truncated.",
                    nullptr, "truncated_body")
            : Error(ErrorCode::kBadRequest,
                    "Corps de requête mal formé (" + ec.message() + "). / Malformed request body.",
                    nullptr, "malformed_body")));
  }

  // ---- 4. handler, on the handler pool ----
  // Errors of a matched route, in the route's own format when it has one (OpenAI's for /v1).
  Response ErrorResponse(const Error& e) const {
    if (route_ && route_->options.error_format) return route_->options.error_format(e);
    return PathErrorResponse(req_.path, e);
  }
  // Errors before a route matched: in the format of the API the path belongs to.
  Response PathErrorResponse(const std::string& path, const Error& e) const {
    if (const auto* format = server_->router.ErrorFormatFor(path)) return (*format)(e);
    return Response::FromError(e);
  }

  Response CallHandler() {
    try {
      return route_->handler(req_);
    } catch (const std::exception& e) {
      log::Error("handler threw", {{"request_id", req_.request_id}, {"error", e.what()}});
      return Response::FromError(
          Internal("Erreur interne. / Internal error (request " + req_.request_id + ")."));
    }
  }

  void RunHandler() {
    net::post(*server_->handlers, [self = shared_from_this()] {
      Response res = self->CallHandler();
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->Send(std::move(res)); });
    });
  }

  // ---- 5. response, on the I/O thread ----
  void Send(Response res, int status_override = 0) {
    res_ = std::move(res);
    status_ = status_override ? status_override : res_.status;
    if (server_->stopping) keep_alive_ = false;
    if (res_.stream || res_.file) return SendWithSerializer();
    // An in-memory body: the head is written by hand into a buffer the session keeps, and head
    // and body leave in one gather write (no serializer, no copy of the body).
    bool no_body_status = status_ == 204 || status_ == 304 || (status_ >= 100 && status_ < 200);
    const std::string& body = res_.shared_body ? *res_.shared_body : res_.body;
    AppendHead(no_body_status);
    if (!no_body_status) {
      head_ += "Content-Length: ";
      head_ += std::to_string(body.size());
      head_ += "\r\n";
    }
    head_ += "\r\n";
    std::array<net::const_buffer, 2> buffers = {net::buffer(head_), net::const_buffer()};
    if (!no_body_status && req_.method != "HEAD") buffers[1] = net::buffer(body);
    net::async_write(stream_, buffers, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->Finish(!ec);
    });
  }

  // The headers every response carries besides Content-Length / Transfer-Encoding.
  template <typename Fn>
  void ForEachHeader(bool no_body_status, Fn&& fn) {
    if (!res_.content_type.empty() && !no_body_status) fn("Content-Type", res_.content_type);
    fn("Server", "crm-ai");
    fn("X-Request-Id", req_.request_id);
    for (const auto& [name, value] : kSecurityHeaders) fn(name, value);
    if (res_.stream || res_.content_type.rfind("application/json", 0) == 0)
      fn("Cache-Control", "no-store");
    for (auto& [k, v] : res_.headers) fn(k, v);
  }

  // Status line and headers, without Content-Length and the blank line.
  void AppendHead(bool no_body_status) {
    head_.clear();
    head_ += "HTTP/1.1 ";
    head_ += std::to_string(status_);
    head_ += ' ';
    auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status_));
    head_.append(reason.data(), reason.size());
    head_ += "\r\n";
    ForEachHeader(no_body_status, [this](std::string_view name, std::string_view value) {
      head_ += name;
      head_ += ": ";
      size_t at = head_.size();
      head_ += value;
      // Values come from handlers (file names, ETags...): CR and LF never reach the wire.
      if (std::memchr(value.data(), '\r', value.size()) ||
          std::memchr(value.data(), '\n', value.size()))
        for (size_t i = at; i < head_.size(); ++i)
          if (head_[i] == '\r' || head_[i] == '\n') head_[i] = ' ';
      head_ += "\r\n";
    });
    if (!keep_alive_) head_ += "Connection: close\r\n";
  }

  // Streams (chunked) and files (read in pieces) go through Beast's serializer.
  void SendWithSerializer() {
    auto header = std::make_shared<bhttp::response<bhttp::buffer_body>>();
    header->version(11);
    header->result(static_cast<unsigned>(status_));
    ForEachHeader(false, [&](std::string_view name, std::string_view value) {
      header->insert(beast::string_view(name.data(), name.size()),
                     beast::string_view(value.data(), value.size()));
    });
    if (res_.stream) keep_alive_ = false;
    header->keep_alive(keep_alive_);
    if (res_.stream)
      header->chunked(true);
    else
      header->content_length(res_.file->length);
    response_ = header;
    serializer_ = std::make_shared<bhttp::response_serializer<bhttp::buffer_body>>(*response_);
    response_->body().data = nullptr;
    response_->body().more = true;
    bhttp::async_write_header(stream_, *serializer_,
                              [self = shared_from_this()](beast::error_code ec, size_t) {
                                if (ec) return self->Finish(false);
                                self->WriteBody();
                              });
  }

  void WriteBody() {
    if (req_.method == "HEAD") return WriteLast();
    if (res_.stream) return StartStream();
    position_ = res_.file->offset;
    remaining_ = res_.file->length;
    if (!res_.file->read) {
      file_ = std::fopen(res_.file->path.c_str(), "rb");
      if (!file_ || fseeko(file_, static_cast<off_t>(position_), SEEK_SET) != 0)
        return Finish(false);
    }
    WriteFileChunk();
  }

  void CloseFile() {
    if (file_) std::fclose(file_);
    file_ = nullptr;
  }

  void WriteFileChunk() {
    if (remaining_ == 0) {
      CloseFile();
      return WriteLast();
    }
    size_t want = static_cast<size_t>(std::min<uint64_t>(remaining_, sizeof chunk_));
    size_t got = 0;
    if (res_.file->read) {
      auto n = res_.file->read(position_, chunk_, want);
      got = n ? std::min(*n, want) : 0;
    } else {
      got = std::fread(chunk_, 1, want, file_);
    }
    if (got == 0) {
      CloseFile();
      return Finish(false);
    }
    remaining_ -= got;
    position_ += got;
    response_->body().data = chunk_;
    response_->body().size = got;
    response_->body().more = true;
    stream_.expires_after(std::chrono::seconds(60));
    bhttp::async_write(stream_, *serializer_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec == bhttp::error::need_buffer) ec = {};
                         if (ec) {
                           self->CloseFile();
                           return self->Finish(false);
                         }
                         self->WriteFileChunk();
                       });
  }

  void WriteLast() {
    response_->body().data = nullptr;
    response_->body().size = 0;
    response_->body().more = false;
    bhttp::async_write(stream_, *serializer_,
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         if (ec == bhttp::error::need_buffer) ec = {};
                         self->Finish(!ec);
                       });
  }

  class Writer final : public StreamWriter {
   public:
    explicit Writer(std::shared_ptr<Session> s) : s_(std::move(s)) {}
    bool Write(std::string_view chunk) override {
      if (gone_) return false;
      auto done = std::make_shared<std::promise<bool>>();
      auto fut = done->get_future();
      auto data = std::make_shared<std::string>(chunk);
      net::post(s_->stream_.get_executor(), [s = s_, data, done] {
        s->response_->body().data = data->data();
        s->response_->body().size = data->size();
        s->response_->body().more = true;
        s->stream_.expires_after(std::chrono::seconds(30));
        bhttp::async_write(s->stream_, *s->serializer_, [data, done](beast::error_code ec, size_t) {
          if (ec == bhttp::error::need_buffer) ec = {};
          done->set_value(!ec);
        });
      });
      gone_ = !fut.get();
      return !gone_;
    }
    bool ShuttingDown() const override { return s_->server_->stopping; }

   private:
    std::shared_ptr<Session> s_;
    bool gone_ = false;
  };

  void StartStream() {
    server_->streams++;
    std::thread([self = shared_from_this()] {
      Writer w(self);
      try {
        self->res_.stream(w);
      } catch (const std::exception& e) {
        log::Error("stream threw", {{"error", e.what()}});
      }
      net::post(self->stream_.get_executor(), [self] {
        self->server_->streams--;
        self->WriteLast();
      });
    }).detach();
  }

  void Finish(bool ok) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (server_->mw.finished && status_ != 0) {
      server_->mw.finished({.method = req_.method,
                            .route = route_ ? std::string_view(route_->pattern) : "unmatched",
                            .status = status_,
                            .seconds = seconds,
                            .streamed_bytes = streamed_bytes_});
    }
    streamed_bytes_ = 0;
    log::Line line(log::Level::kInfo, "request");
    if (line.enabled()) {
      double ms = seconds * 1000;
      line.Str("request_id", req_.request_id).Str("method", req_.method).Str("path", req_.path)
          .Int("status", status_).Fixed2("ms", ms).Str("ip", req_.remote_ip.empty() ? remote_ip_ : req_.remote_ip)
          .Str("firm_id", req_.principal.firm_id).Str("user_id", req_.principal.user_id).Queue();
    }
    response_.reset();
    serializer_.reset();
    res_ = Response();
    route_ = nullptr;
    status_ = 0;
    string_parser_.reset();
    buffer_parser_.reset();
    if (body_chunk_) {
      body_chunk_.reset();
      // Keeps what a pipelined next request already sent; frees the rest of the body's space.
      buffer_.shrink_to_fit();
    }
    server_->RequestFinished();
    if (ok && keep_alive_ && !server_->stopping) return ReadHeader(false);
    if (ok && body_pending_) return Linger();
    Close();
  }

  // ---- 6. lingering close, on the I/O thread ----
  // The answer is out but the client may still be writing a body we refused. Closing now would
  // make the kernel reset the connection (unread data), and the client would see EPIPE or
  // ECONNRESET instead of the answer. So: half-close (the client reads the answer and EOF), read
  // and discard until the client closes, within linger_time, linger_idle and linger_max_bytes.
  // Nothing read here goes anywhere.
  void Linger() {
    const auto& o = server_->opts;
    if (server_->lingering.fetch_add(1) >= o.linger_max_connections) {
      server_->lingering--;
      return Close();
    }
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    linger_until_ = std::chrono::steady_clock::now() + o.linger_time;
    linger_bytes_ = buffer_.size();
    buffer_.clear();
    LingerRead();
  }

  void LingerRead() {
    const auto& o = server_->opts;
    auto left = linger_until_ - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero() || linger_bytes_ >= o.linger_max_bytes)
      return EndLinger();
    stream_.expires_after(std::min<std::chrono::steady_clock::duration>(left, o.linger_idle));
    stream_.async_read_some(net::buffer(chunk_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->linger_bytes_ += n;
                              if (ec) return self->EndLinger();
                              self->LingerRead();
                            });
  }

  void EndLinger() {
    server_->lingering--;
    Close();
  }

  void AbortRequest() {
    server_->RequestFinished();
    Close();
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.close();
  }

  beast::tcp_stream stream_;
  Server::Impl* server_;
  std::string remote_ip_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> string_parser_;
  std::optional<bhttp::request_parser<bhttp::buffer_body>> buffer_parser_;
  std::optional<uint64_t> content_length_;
  bool chunked_ = false;
  Request req_;
  const Route* route_ = nullptr;
  uint64_t streamed_bytes_ = 0;
  std::unique_ptr<BodySink> sink_;
  Response res_;
  int status_ = 0;
  std::string head_;  // the response head being written (reused across keep-alive requests)
  std::shared_ptr<bhttp::response<bhttp::buffer_body>> response_;
  std::shared_ptr<bhttp::response_serializer<bhttp::buffer_body>> serializer_;
  std::FILE* file_ = nullptr;
  uint64_t remaining_ = 0;
  uint64_t position_ = 0;
  bool keep_alive_ = true;
  bool idle_ = true;
  bool body_pending_ = false;  // a refused request's body may still be arriving → linger
  std::chrono::steady_clock::time_point linger_until_;
  uint64_t linger_bytes_ = 0;
  std::chrono::steady_clock::time_point started_;
  char chunk_[64 * 1024];
  // Streamed request bodies (uploads) are read in pieces of this size, into a buffer that exists
  // only while such a body arrives: an idle or slow connection holds only chunk_.
  static constexpr size_t kBodyChunk = 256 * 1024;
  std::unique_ptr<char[]> body_chunk_;
};

void Server::Impl::Register(const std::shared_ptr<Session>& s) {
  std::lock_guard lock(mu);
  for (auto it = sessions.begin(); it != sessions.end();)
    it = it->expired() ? sessions.erase(it) : std::next(it);
  sessions.push_back(s);
}

void Server::Impl::CloseIdleSessions() {
  std::lock_guard lock(mu);
  for (auto& w : sessions)
    if (auto s = w.lock()) s->CloseIfIdle();
}

void Server::Impl::Accept() {
  size_t k = next_ioc++ % (more_iocs.size() + 1);
  net::io_context& ctx = k == 0 ? ioc : *more_iocs[k - 1];
  acceptor.async_accept(net::make_strand(ctx), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (!stopping && ec != net::error::operation_aborted) {
        log::Warn("accept failed", {{"error", ec.message()}});
        Accept();
      }
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto s = std::make_shared<Session>(std::move(socket), this);
    Register(s);
    s->Start();
    Accept();
  });
}

Server::Server(ServerOptions options, Router router, Middleware middleware)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), std::move(middleware))) {}

Server::~Server() {
  if (!impl_->io_threads.empty()) {
    Stop();
    Wait();
  }
}

Status Server::Start() {
  auto& o = impl_->opts;
  beast::error_code ec;
  auto addr = net::ip::make_address(o.host, ec);
  if (ec) return InvalidArgument("invalid listen address " + o.host + ": " + ec.message());
  tcp::endpoint ep(addr, static_cast<unsigned short>(o.port));
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Error(ErrorCode::kIo, "cannot listen on " + o.host + ":" + std::to_string(o.port) +
                                     ": " + ec.message() +
                                     "; set APP_HOST/APP_PORT to a free address");
  impl_->bound_port = impl_->acceptor.local_endpoint().port();
  impl_->handlers = std::make_unique<net::thread_pool>(std::max(1, o.handler_threads));
  for (int i = 1; i < std::max(1, o.io_threads); ++i)
    impl_->more_iocs.push_back(std::make_unique<net::io_context>(1));
  impl_->Accept();
  for (int i = 0; i < std::max(1, o.io_threads); ++i) {
    net::io_context& ctx = i == 0 ? impl_->ioc : *impl_->more_iocs[i - 1];
    impl_->io_threads.emplace_back([&ctx] {
      auto guard = net::make_work_guard(ctx);
      for (;;) {
        try {
          ctx.run();
          break;
        } catch (const std::exception& e) {
          log::Error("I/O thread error", {{"error", e.what()}});
        }
      }
    });
  }
  return OkStatus();
}

void Server::Stop() {
  if (impl_->stopping.exchange(true)) return;
  net::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor.close(ec);
  });
  std::thread([this] {
    impl_->CloseIdleSessions();
    auto deadline = std::chrono::steady_clock::now() + impl_->opts.shutdown_grace;
    {
      std::unique_lock lock(impl_->mu);
      impl_->cv.wait_until(lock, deadline, [this] { return impl_->inflight.load() <= 0; });
    }
    while (impl_->streams.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    impl_->CloseIdleSessions();
    impl_->ioc.stop();
    for (auto& ctx : impl_->more_iocs) ctx->stop();
    std::lock_guard lock(impl_->mu);
    impl_->done = true;
    impl_->cv.notify_all();
  }).detach();
}

void Server::Wait() {
  {
    std::unique_lock lock(impl_->mu);
    impl_->cv.wait(lock, [this] { return impl_->done; });
  }
  for (auto& t : impl_->io_threads)
    if (t.joinable()) t.join();
  impl_->io_threads.clear();
  if (impl_->handlers) impl_->handlers->join();
  // What the stopped contexts still hold (the accept aborted by the closed acceptor, handlers of
  // closed sessions) runs now, while every context is alive: destroyed later, the pending accept
  // would move a socket of another context that is already gone (UBSan: invalid vptr).
  beast::error_code ec;
  impl_->acceptor.close(ec);
  for (int round = 0; round < 100; ++round) {
    size_t ran = 0;
    impl_->ioc.restart();
    ran += impl_->ioc.poll();
    for (auto& ctx : impl_->more_iocs) {
      ctx->restart();
      ran += ctx->poll();
    }
    if (ran == 0) break;
  }
  log::Flush();  // every access-log line of the requests served is on stderr before Wait returns
}

int Server::port() const { return impl_->bound_port; }
const Router& Server::router() const { return impl_->router; }
bool Server::stopping() const { return impl_->stopping; }

}  // namespace crm::http
