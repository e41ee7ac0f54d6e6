#include "http/router.h"

#include "common/text.h"

namespace crm::http {

static std::vector<std::string> PathSegments(const std::string& path) {
  std::vector<std::string> out;
  for (auto& s : Split(path, '/'))
    if (!s.empty()) out.push_back(s);
  return out;
}

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  Route r;
  r.method = std::move(method);
  r.segments = PathSegments(pattern);
  r.pattern = std::move(pattern);
  r.handler = std::move(handler);
  r.options = std::move(options);
  routes_.push_back(std::move(r));
}

RouteMatch Router::Match(const std::string& method, const std::string& path) const {
  RouteMatch m;
  auto segs = PathSegments(path);
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> params;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const auto& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}')
        params[p.substr(1, p.size() - 2)] = segs[i];
      else
        ok = (p == segs[i]);
    }
    if (!ok) continue;
    bool method_ok = r.method == method || (method == "HEAD" && r.method == "GET");
    if (method_ok) {
      // Prefer literal matches over parameter matches ("/api/clients/search" vs "{id}").
      if (!m.route || r.pattern.find('{') == std::string::npos) {
        m.route = &r;
        m.params = std::move(params);
      }
    } else {
      m.path_exists = true;
      if (m.allowed.find(r.method) == std::string::npos)
        m.allowed += (m.allowed.empty() ? "" : ", ") + r.method;
    }
  }
  if (!m.route && !m.path_exists && fallback_ && (method == "GET" || method == "HEAD") &&
      fallback_accepts_(path))
    m.route = &*fallback_;
  return m;
}

void Router::SetFallback(std::function<bool(const std::string&)> accepts, Handler handler,
                         RouteOptions options) {
  Route r;
  r.method = "GET";
  r.pattern = "/{path...}";
  r.handler = std::move(handler);
  r.options = std::move(options);
  fallback_ = std::move(r);
  fallback_accepts_ = std::move(accepts);
}

void Router::SetErrorFormat(std::string prefix, std::function<Response(const Error&)> format) {
  error_formats_.emplace_back(std::move(prefix), std::move(format));
}

const std::function<Response(const Error&)>* Router::ErrorFormatFor(std::string_view path) const {
  for (const auto& [prefix, format] : error_formats_)
    if (path.substr(0, prefix.size()) == prefix) return &format;
  return nullptr;
}

bool RoleAtLeast(const std::string& role, const std::string& min_role) {
  auto rank = [](const std::string& r) {
    if (r == "member") return 1;
    if (r == "admin") return 2;
    if (r == "owner") return 3;
    if (r == "platform_admin") return 4;
    return 0;
  };
  if (min_role == "platform_admin") return role == "platform_admin";
  if (role == "platform_admin") return false;  // firm routes need a firm principal
  return rank(role) >= rank(min_role);
}

}  // namespace crm::http
