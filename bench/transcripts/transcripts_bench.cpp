// Transcript storage and search speed on a SQLite file (WAL, synchronous=FULL).
//
// Search: GET /api/search's domain call over `recordings` recordings of 400 segments each
// (two firms, one searched), against the reference measured in the same run: a plain scan of
// the same folded text with LIKE (what the search would cost without the FTS5 index).
// Save: SaveEngineTranscript of a 400-segment transcript (first save, then an identical retry),
// against the reference of inserting the same rows into a bare table in one transaction.
// Usage: bench_transcripts [recordings=50] [rounds=200]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common/ids.h"
#include "common/log.h"
#include "common/text.h"
#include "domain/transcript_search.h"
#include "domain/transcripts.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"
#include "storage/temp_database.h"

namespace {

using namespace crm;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

void Check(const Status& st, const char* what) {
  if (!st.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, st.error().message.c_str());
    std::exit(1);
  }
}

// Frequent French words, then a long tail of generated words drawn with a Zipf-like skew, and a
// rare name ("Hélène", about one segment in 500): what meeting transcripts look like to an index.
const char* kCommon[] = {"le",         "la",   "de",  "et",   "vous", "nous", "dossier", "Maître",
                         "succession", "donc", "est", "pour", "une",  "que",  "pas",     "avec"};
const char* kSyllables[] = {"ba", "ré", "to", "li", "ma", "ne", "sou", "pé", "ca", "vi",
                            "dé", "ro", "mi", "fa", "gu", "lo", "sé",  "ta", "no", "cha"};

unsigned Next(unsigned& seed) {
  seed = seed * 1103515245u + 12345u;
  return seed >> 8;
}

std::string TailWord(unsigned rank) {
  std::string w;
  for (int k = 0; k < 3; ++k) {
    w += kSyllables[rank % 20];
    rank /= 20;
  }
  return w;
}

asr::Transcript MakeTranscript(unsigned seed, int segments) {
  asr::Transcript t;
  t.language = "fr";
  for (int i = 0; i < segments; ++i) {
    asr::Segment s;
    s.start = i * 4.0;
    s.end = i * 4.0 + 3.5;
    s.speaker = i % 3 ? "SPEAKER_1" : "SPEAKER_2";
    for (int w = 0; w < 14; ++w) {
      std::string word;
      unsigned r = Next(seed);
      if (r % 500 == 0)
        word = "Hélène";
      else if (r % 2)
        word = kCommon[(r >> 1) % 16];
      else
        word = TailWord(((r >> 1) % 8000) * ((r >> 14) % 8000) / 8000);  // skewed to low ranks
      s.text += " " + word;
      s.words.push_back(
          {s.start + w * 0.25, s.start + w * 0.25 + 0.2, " " + word, 0.9f, s.speaker});
    }
    t.segments.push_back(std::move(s));
  }
  t.duration = segments * 4.0;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  int recordings = argc > 1 ? std::atoi(argv[1]) : 50;
  int rounds = argc > 2 ? std::atoi(argv[2]) : 200;
  const int kSegments = 400;
  log::Configure(log::Level::kWarn, log::Format::kText);
  auto db = storage::TempDatabase::Create("crm-bench-transcripts");
  if (!db.ok()) {
    std::fprintf(stderr, "database: %s\n", db.error().message.c_str());
    return 1;
  }
  auto& store = (*db)->store();
  std::string now = NowIsoUtc();
  for (const char* firm : {"F1", "F2"}) {
    Check(store.Exec("INSERT INTO firms (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                     {firm, firm, now, now})
                  .ok()
              ? OkStatus()
              : Internal("firm"),
          "firm");
    Check(store.Exec("INSERT INTO clients (id, firm_id, name, created_at, updated_at) VALUES "
                     "(?, ?, 'Client', ?, ?)",
                     {std::string("C") + firm, firm, now, now})
                  .ok()
              ? OkStatus()
              : Internal("client"),
          "client");
  }

  // Save: first save and identical retry, against bare inserts of the same rows.
  double save_first = 0, save_retry = 0;
  for (int r = 0; r < recordings; ++r) {
    std::string firm = r % 2 ? "F2" : "F1";
    std::string id = NewId();
    Check(
        store.Exec(
                 "INSERT INTO recordings (id, firm_id, client_id, blob_key, size_bytes, "
                 "sha256, consent, created_at, updated_at) VALUES (?, ?, ?, 'k', 1, 'x', 1, ?, ?)",
                 {id, firm, "C" + firm, now, now})
                .ok()
            ? OkStatus()
            : Internal("recording"),
        "recording");
    asr::Transcript t = MakeTranscript(r + 1, kSegments);
    auto t0 = Clock::now();
    Check(store.Transaction(
              [&](storage::Connection& c) { return domain::SaveEngineTranscript(c, firm, id, t); }),
          "save");
    save_first += Seconds(t0);
    t0 = Clock::now();
    Check(store.Transaction(
              [&](storage::Connection& c) { return domain::SaveEngineTranscript(c, firm, id, t); }),
          "retry");
    save_retry += Seconds(t0);
  }
  Check(store.Exec("CREATE TABLE bare (id TEXT, firm_id TEXT, recording_id TEXT, position INTEGER, "
                   "start_s REAL, end_s REAL, speaker TEXT, text TEXT, search_text TEXT)")
                .ok()
            ? OkStatus()
            : Internal("bare"),
        "bare");
  double bare = 0;
  for (int r = 0; r < recordings; ++r) {
    asr::Transcript t = MakeTranscript(r + 1, kSegments);
    auto t0 = Clock::now();
    Check(store.Transaction([&](storage::Connection& c) -> Status {
      for (size_t i = 0; i < t.segments.size(); ++i) {
        const auto& s = t.segments[i];
        CRM_TRY(c.Exec(
            "INSERT INTO bare VALUES (?, 'F1', 'R', ?, ?, ?, ?, ?, ?)",
            {NewId(), int64_t(i), s.start, s.end, s.speaker, s.text, FoldForSearch(s.text)}));
      }
      return OkStatus();
    }),
          "bare insert");
    bare += Seconds(t0);
  }

  // A rare name, a tail word, a frequent word, and a prefix.
  const char* queries[] = {"helene", "souréba", "succession", "souré"};
  double fts = 0, scan = 0;
  double fts_q[4] = {0, 0, 0, 0}, scan_q[4] = {0, 0, 0, 0};
  size_t hits = 0;
  for (int round = 0; round < rounds; ++round) {
    for (int qi = 0; qi < 4; ++qi) {
      const char* q = queries[qi];
      auto t0 = Clock::now();
      auto page = domain::Search(store, "F1", q);
      double f = Seconds(t0);
      fts += f;
      fts_q[qi] += f;
      if (!page.ok()) return 1;
      hits += page->hits.size();
      auto terms = domain::SearchTerms(q);
      std::string sql = "SELECT id, start_s, text FROM transcript_segments WHERE firm_id = ?";
      storage::Params p = {std::string("F1")};
      for (auto& term : terms) {
        sql += " AND search_text LIKE ?";
        p.push_back("%" + term + "%");
      }
      sql += " ORDER BY seq LIMIT 21";
      t0 = Clock::now();
      auto rows = store.Query(sql, p);
      double sc = Seconds(t0);
      scan += sc;
      scan_q[qi] += sc;
      if (!rows.ok()) return 1;
    }
  }
  int searches = rounds * 4;
  int total_segments = recordings * kSegments;
  std::printf("transcripts: %d recordings x %d segments (%d rows, 2 firms)\n", recordings,
              kSegments, total_segments);
  std::printf(
      "save 400 segments:  first %.2f ms, identical retry %.2f ms; reference bare insert "
      "%.2f ms; ratio first/reference %.2f\n",
      1e3 * save_first / recordings, 1e3 * save_retry / recordings, 1e3 * bare / recordings,
      save_first / bare);
  std::printf(
      "search (%d queries, %zu hits): FTS5 %.3f ms/query; reference LIKE scan %.3f "
      "ms/query; ratio reference/FTS5 %.2f\n",
      searches, hits, 1e3 * fts / searches, 1e3 * scan / searches, scan / fts);
  for (int qi = 0; qi < 4; ++qi)
    std::printf("  q=%-12s FTS5 %.3f ms; LIKE scan %.3f ms; ratio %.2f\n", queries[qi],
                1e3 * fts_q[qi] / rounds, 1e3 * scan_q[qi] / rounds, scan_q[qi] / fts_q[qi]);
  return 0;
}
