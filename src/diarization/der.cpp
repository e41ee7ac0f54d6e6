#include "diarization/der.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace crm::diarization {

std::vector<int> SolveAssignment(const std::vector<std::vector<double>>& cost) {
  const size_t rows = cost.size();
  const size_t cols = rows ? cost[0].size() : 0;
  const size_t n = std::max(rows, cols);
  if (n == 0) return {};
  // Square matrix padded with zeros; Hungarian method with potentials (1-based arrays).
  auto c = [&](size_t i, size_t j) { return i < rows && j < cols ? cost[i][j] : 0.0; };
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0), v(n + 1, 0);
  std::vector<size_t> match(n + 1, 0), way(n + 1, 0);
  for (size_t i = 1; i <= n; ++i) {
    match[0] = i;
    size_t j0 = 0;
    std::vector<double> minv(n + 1, inf);
    std::vector<char> used(n + 1, 0);
    do {
      used[j0] = 1;
      size_t i0 = match[j0], j1 = 0;
      double delta = inf;
      for (size_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        double cur = c(i0 - 1, j - 1) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (size_t j = 0; j <= n; ++j) {
        if (used[j]) {
          u[match[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (match[j0] != 0);
    do {
      size_t j1 = way[j0];
      match[j0] = match[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> assignment(rows, -1);
  for (size_t j = 1; j <= n; ++j) {
    size_t i = match[j];
    if (i >= 1 && i <= rows && j <= cols) assignment[i - 1] = static_cast<int>(j - 1);
  }
  return assignment;
}

DerResult ScoreDiarization(const std::vector<NamedTurn>& reference,
                           const std::vector<NamedTurn>& system, const DerOptions& options) {
  DerResult r;
  std::vector<std::string> ref_names, sys_names;
  auto index_of = [](std::vector<std::string>& names, const std::string& s) {
    auto it = std::find(names.begin(), names.end(), s);
    if (it != names.end()) return static_cast<int>(it - names.begin());
    names.push_back(s);
    return static_cast<int>(names.size() - 1);
  };
  struct Span {
    double start, end;
    int who;
  };
  std::vector<Span> ref, sys;
  for (const auto& t : reference) {
    if (t.end > t.start) ref.push_back({t.start, t.end, index_of(ref_names, t.speaker)});
  }
  for (const auto& t : system) {
    if (t.end > t.start) sys.push_back({t.start, t.end, index_of(sys_names, t.speaker)});
  }
  r.reference_speakers = static_cast<int>(ref_names.size());
  r.system_speakers = static_cast<int>(sys_names.size());

  double lo = options.uem_start, hi = options.uem_end;
  if (!(hi > lo)) {
    lo = 0;
    hi = 0;
    for (const auto& s : ref) hi = std::max(hi, s.end);
    for (const auto& s : sys) hi = std::max(hi, s.end);
  }
  // Elementary intervals between all boundaries.
  std::vector<double> cuts = {lo, hi};
  std::vector<std::pair<double, double>> no_score;
  for (const auto& s : ref) {
    cuts.push_back(s.start);
    cuts.push_back(s.end);
    if (options.collar > 0) {
      for (double b : {s.start, s.end}) {
        no_score.push_back({b - options.collar, b + options.collar});
        cuts.push_back(b - options.collar);
        cuts.push_back(b + options.collar);
      }
    }
  }
  for (const auto& s : sys) {
    cuts.push_back(s.start);
    cuts.push_back(s.end);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());

  struct Piece {
    double duration;
    std::vector<int> ref, sys;
  };
  std::vector<Piece> pieces;
  const size_t nr = ref_names.size(), ns = sys_names.size();
  std::vector<std::vector<double>> common(nr, std::vector<double>(ns, 0));
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    double a = std::max(cuts[i], lo), b = std::min(cuts[i + 1], hi);
    if (!(b > a)) continue;
    double mid = 0.5 * (a + b);
    bool skip = false;
    for (const auto& z : no_score) {
      if (mid > z.first && mid < z.second) {
        skip = true;
        break;
      }
    }
    if (skip) continue;
    Piece p{b - a, {}, {}};
    for (const auto& s : ref) {
      if (mid > s.start && mid < s.end && std::find(p.ref.begin(), p.ref.end(), s.who) == p.ref.end()) {
        p.ref.push_back(s.who);
      }
    }
    if (options.skip_overlap && p.ref.size() > 1) continue;
    for (const auto& s : sys) {
      if (mid > s.start && mid < s.end && std::find(p.sys.begin(), p.sys.end(), s.who) == p.sys.end()) {
        p.sys.push_back(s.who);
      }
    }
    for (int x : p.ref) {
      for (int y : p.sys) common[x][y] += p.duration;
    }
    if (!p.ref.empty() || !p.sys.empty()) pieces.push_back(std::move(p));
  }

  // Optimal mapping: maximise common time = minimise its negative.
  std::vector<int> sys_to_ref(ns, -1);
  if (nr > 0 && ns > 0) {
    std::vector<std::vector<double>> cost(ns, std::vector<double>(nr, 0));
    for (size_t y = 0; y < ns; ++y) {
      for (size_t x = 0; x < nr; ++x) cost[y][x] = -common[x][y];
    }
    std::vector<int> a = SolveAssignment(cost);
    for (size_t y = 0; y < ns; ++y) {
      if (a[y] >= 0 && common[a[y]][y] > 0) {
        sys_to_ref[y] = a[y];
        r.mapping[sys_names[y]] = ref_names[a[y]];
      }
    }
  }
  for (const Piece& p : pieces) {
    double nref = static_cast<double>(p.ref.size()), nsys = static_cast<double>(p.sys.size());
    double correct = 0;
    for (int y : p.sys) {
      if (sys_to_ref[y] >= 0 && std::find(p.ref.begin(), p.ref.end(), sys_to_ref[y]) != p.ref.end()) {
        correct += 1;
      }
    }
    r.total += nref * p.duration;
    r.missed += std::max(0.0, nref - nsys) * p.duration;
    r.false_alarm += std::max(0.0, nsys - nref) * p.duration;
    r.confusion += (std::min(nref, nsys) - correct) * p.duration;
  }
  return r;
}

}  // namespace crm::diarization
