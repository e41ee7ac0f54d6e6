// The archive: a tar (pax) stream compressed with zstd (gzip where libarchive lacks zstd) through
// libarchive, written to and read from the byte streams of streams.h.
#include "backup/backup.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "backup/streams.h"
#include "common/ids.h"

namespace crm::backup {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kPiece = 1 << 20;
constexpr int64_t kMaxManifestBytes = 64 << 20;
constexpr int64_t kMaxKeyBytes = 4096;

std::string IsoTime(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + dir.string() + " to sync: " + std::strerror(errno));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IoError("cannot sync " + dir.string() + ": " + std::strerror(errno));
  return OkStatus();
}

// ---- the database snapshot, read with SQLite directly (it is a file of ours, not the live DB)

struct DatabaseFacts {
  int schema_version = 0;
  std::map<std::string, int64_t> tables;  // rows per table
  int64_t rows = 0;
};

Result<DatabaseFacts> InspectSnapshot(const std::string& path, bool integrity_check) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close_v2(db);
    return Error(ErrorCode::kCorrupt, msg);
  };
  if (rc != SQLITE_OK) return fail("cannot open the database snapshot");
  auto query = [&](const std::string& sql, std::vector<std::vector<std::string>>* out) -> bool {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return false;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row.emplace_back(t ? reinterpret_cast<const char*>(t) : "");
      }
      out->push_back(std::move(row));
    }
    sqlite3_finalize(st);
    return step == SQLITE_DONE;
  };
  DatabaseFacts facts;
  std::vector<std::vector<std::string>> rows;
  if (integrity_check) {
    if (!query("PRAGMA integrity_check", &rows))
      return fail("the database snapshot cannot be checked");
    if (rows.empty() || rows[0].empty() || rows[0][0] != "ok") {
      std::string first = rows.empty() || rows[0].empty() ? "no answer" : rows[0][0];
      sqlite3_close_v2(db);
      return Error(ErrorCode::kCorrupt,
                   "the database snapshot fails PRAGMA integrity_check: " + first);
    }
    rows.clear();
  }
  if (!query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
             "ORDER BY name",
             &rows))
    return fail("cannot list the snapshot's tables");
  for (auto& r : rows) {
    std::string quoted = "\"";
    for (char c : r[0]) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += "\"";
    std::vector<std::vector<std::string>> count;
    if (!query("SELECT COUNT(*) FROM " + quoted, &count) || count.empty())
      return fail("cannot count the rows of table " + r[0]);
    int64_t n = std::stoll(count[0][0]);
    facts.tables[r[0]] = n;
    facts.rows += n;
  }
  if (facts.tables.count("schema_migrations")) {
    std::vector<std::vector<std::string>> v;
    if (!query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &v) || v.empty())
      return fail("cannot read the snapshot's migration level");
    facts.schema_version = std::stoi(v[0][0]);
  }
  sqlite3_close_v2(db);
  return facts;
}

// ---- writing

struct WriteContext {
  Sink* sink;
  Status status = OkStatus();
  int64_t bytes = 0;
};

la_ssize_t WriteCallback(struct archive*, void* client, const void* buffer, size_t length) {
  auto* w = static_cast<WriteContext*>(client);
  Status st = w->sink->Write(buffer, length);
  if (!st.ok()) {
    w->status = st;
    return -1;
  }
  w->bytes += static_cast<int64_t>(length);
  return static_cast<la_ssize_t>(length);
}

class ArchiveWriter {
 public:
  ArchiveWriter(Sink& sink, std::chrono::system_clock::time_point mtime)
      : a_(archive_write_new()), ctx_{&sink}, mtime_(std::chrono::system_clock::to_time_t(mtime)) {}
  ~ArchiveWriter() { archive_write_free(a_); }

  // Returns the compression used ("zstd" or "gzip").
  Result<std::string> Open() {
    std::string compression = "zstd";
    if (archive_write_set_format_pax_restricted(a_) != ARCHIVE_OK)
      return Fail("cannot set up the tar format");
    if (archive_write_add_filter_zstd(a_) != ARCHIVE_OK) {
      compression = "gzip";
      if (archive_write_add_filter_gzip(a_) != ARCHIVE_OK) return Fail("cannot set up compression");
    }
    archive_write_set_bytes_in_last_block(a_, 1);
    if (archive_write_open(a_, &ctx_, nullptr, WriteCallback, nullptr) != ARCHIVE_OK)
      return Fail("cannot start the archive");
    return compression;
  }

  // One file of `size` bytes whose content `fill` writes through Data().
  Status Begin(const std::string& name, int64_t size) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, size);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0600);
    archive_entry_set_mtime(e, mtime_, 0);
    int rc = archive_write_header(a_, e);
    archive_entry_free(e);
    if (rc != ARCHIVE_OK) return Fail("cannot add " + name + " to the archive");
    return OkStatus();
  }
  Status Data(const void* p, size_t n) {
    if (archive_write_data(a_, p, n) != static_cast<la_ssize_t>(n))
      return Fail("cannot write to the archive");
    return OkStatus();
  }
  Status Close() {
    if (archive_write_close(a_) != ARCHIVE_OK) return Fail("cannot finish the archive");
    return OkStatus();
  }

 private:
  Error Fail(const std::string& what) {
    if (!ctx_.status.ok()) return ctx_.status.error();
    const char* msg = archive_error_string(a_);
    return IoError(what + (msg ? std::string(": ") + msg : std::string()));
  }

  struct archive* a_;
  WriteContext ctx_;
  std::time_t mtime_;
};

// Streams a local file into the archive, hashing it.
Result<json> AddFile(ArchiveWriter& w, const std::string& name, const std::string& path) {
  CRM_ASSIGN_OR_RETURN(auto in, OpenFileSource(path));
  std::error_code ec;
  int64_t size = static_cast<int64_t>(fs::file_size(path, ec));
  if (ec) return IoError("cannot read the size of " + path + ": " + ec.message());
  CRM_TRY(w.Begin(name, size));
  Sha256 hash;
  std::vector<char> buf(kPiece);
  int64_t done = 0;
  while (done < size) {
    CRM_ASSIGN_OR_RETURN(size_t got,
                         in->Read(buf.data(), std::min<int64_t>(buf.size(), size - done)));
    if (got == 0) return IoError(path + " shrank while it was archived");
    hash.Update(buf.data(), got);
    CRM_TRY(w.Data(buf.data(), got));
    done += static_cast<int64_t>(got);
  }
  return json{{"path", name}, {"size", size}, {"sha256", hash.FinishHex()}};
}

Result<json> AddBytes(ArchiveWriter& w, const std::string& name, std::string_view data) {
  CRM_TRY(w.Begin(name, static_cast<int64_t>(data.size())));
  CRM_TRY(w.Data(data.data(), data.size()));
  return json{
      {"path", name}, {"size", static_cast<int64_t>(data.size())}, {"sha256", Sha256Hex(data)}};
}

// A blob through the BlobStore (local disk or object storage alike). nullopt: it was deleted
// between the listing and now.
Result<std::optional<json>> AddBlob(ArchiveWriter& w, blobs::BlobStore& store,
                                    const std::string& key) {
  auto opened = store.Open(key);
  if (!opened.ok()) {
    if (opened.error().code == ErrorCode::kNotFound) return std::optional<json>();
    return opened.take_error();
  }
  auto& reader = **opened;
  std::string name = std::string(kBlobPrefix) + key;
  CRM_TRY(w.Begin(name, reader.size()));
  Sha256 hash;
  std::vector<char> buf(kPiece);
  int64_t done = 0;
  while (done < reader.size()) {
    CRM_ASSIGN_OR_RETURN(size_t got, reader.ReadAt(done, buf.data(), buf.size()));
    if (got == 0) return IoError("blob " + key + " shrank while it was archived");
    hash.Update(buf.data(), got);
    CRM_TRY(w.Data(buf.data(), got));
    done += static_cast<int64_t>(got);
  }
  return std::optional<json>(json{{"path", name}, {"size", done}, {"sha256", hash.FinishHex()}});
}

// rename(2) that never replaces an existing file.
int RenameNoReplace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  return ::unlink(from.c_str());
}

// ---- reading

struct ReadContext {
  Source* source;
  std::vector<char> buffer = std::vector<char>(kPiece);
  Status status = OkStatus();
};

la_ssize_t ReadCallback(struct archive*, void* client, const void** out) {
  auto* r = static_cast<ReadContext*>(client);
  auto got = r->source->Read(r->buffer.data(), r->buffer.size());
  if (!got.ok()) {
    r->status = got.take_error();
    return -1;
  }
  *out = r->buffer.data();
  return static_cast<la_ssize_t>(*got);
}

// Where an archive member goes, relative to the restore folder; empty for the manifest. Refuses
// anything else than the names the writer produces (no "..", no absolute path, no link).
Result<std::string> MemberTarget(const std::string& name) {
  if (name == kManifestName) return std::string();
  if (name == kDatabaseName) return std::string("crm-ai.sqlite3");
  if (name == kAppKeyName) return std::string("app.key");
  if (name.rfind(kBlobPrefix, 0) == 0) {
    std::string key = name.substr(kBlobPrefix.size());
    auto slash = key.find('/');
    std::string top = key.substr(0, slash);
    if (blobs::ValidateKey(key).ok() && slash != std::string::npos && top != "tmp" &&
        top != "models" && top != "backups")
      return key;
  }
  return Error(ErrorCode::kCorrupt, "unexpected member " + name.substr(0, 200));
}

struct Seen {
  int64_t size;
  std::string sha256;
};

// Reads the whole archive; files go under `out_dir` when `extract_all`, the database snapshot
// always (it is checked there). Then checks them against the manifest.
Result<Summary> ReadArchive(const std::string& path, const std::string& passphrase,
                            const fs::path& out_dir, bool extract_all) {
  bool encrypted = false;
  CRM_ASSIGN_OR_RETURN(auto source, OpenArchiveSource(path, passphrase, &encrypted));
  ReadContext ctx{source.get()};
  struct archive* a = archive_read_new();
  struct Closer {
    struct archive* a;
    ~Closer() { archive_read_free(a); }
  } closer{a};
  archive_read_support_format_tar(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_gzip(a);
  auto damaged = [&](const std::string& where) -> Error {
    if (!ctx.status.ok()) return ctx.status.error();
    const char* msg = archive_error_string(a);
    return Error(ErrorCode::kCorrupt, path + " is damaged" + (where.empty() ? "" : " in " + where) +
                                          ": " + (msg ? msg : "unreadable archive") +
                                          " (use another backup)");
  };
  if (archive_read_open(a, &ctx, nullptr, ReadCallback, nullptr) != ARCHIVE_OK) {
    if (!ctx.status.ok()) return ctx.status.error();
    return Error(
        ErrorCode::kCorrupt,
        path + " is not a crm-ai backup archive (" +
            std::string(archive_error_string(a) ? archive_error_string(a) : "unknown format") +
            ")");
  }
  std::map<std::string, Seen> seen;
  std::string manifest_text;
  std::vector<char> buf(kPiece);
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK) return damaged("after " + std::to_string(seen.size()) + " file(s)");
    std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    // Folders (an archive re-packed with tar) carry nothing: skipped, nothing is created for them.
    if (archive_entry_filetype(e) == AE_IFDIR) {
      if (archive_read_data_skip(a) != ARCHIVE_OK) return damaged(name);
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG)
      return Error(ErrorCode::kCorrupt,
                   path + ": member " + name + " is not a regular file; not a crm-ai backup");
    if (seen.count(name) || (name == kManifestName && !manifest_text.empty()))
      return Error(ErrorCode::kCorrupt,
                   path + ": member " + name + " appears twice; not a crm-ai backup");
    auto target = MemberTarget(name);
    if (!target.ok())
      return Error(ErrorCode::kCorrupt,
                   path + ": " + target.error().message + "; not a crm-ai backup");
    int64_t declared = archive_entry_size(e);
    if ((name == kManifestName && declared > kMaxManifestBytes) ||
        (name == kAppKeyName && declared > kMaxKeyBytes))
      return Error(ErrorCode::kCorrupt, path + ": member " + name + " is too large");
    std::unique_ptr<Sink> out;
    fs::path dest;
    if (!target->empty() && (extract_all || name == kDatabaseName)) {
      dest = out_dir / *target;
      std::error_code ec;
      fs::create_directories(dest.parent_path(), ec);
      if (ec) return IoError("cannot create " + dest.parent_path().string() + ": " + ec.message());
      CRM_ASSIGN_OR_RETURN(out, CreateFileSink(dest.string()));
    }
    Sha256 hash;
    int64_t size = 0;
    for (;;) {
      la_ssize_t got = archive_read_data(a, buf.data(), buf.size());
      if (got < 0) return damaged(name);
      if (got == 0) break;
      hash.Update(buf.data(), static_cast<size_t>(got));
      size += got;
      if (name == kManifestName) {
        if (size > kMaxManifestBytes)
          return Error(ErrorCode::kCorrupt, path + ": the manifest is too large");
        manifest_text.append(buf.data(), static_cast<size_t>(got));
      } else if (out) {
        CRM_TRY(out->Write(buf.data(), static_cast<size_t>(got)));
      }
    }
    if (out) CRM_TRY(out->Finish());
    if (name != kManifestName) seen[name] = {size, hash.FinishHex()};
  }
  if (!ctx.status.ok()) return ctx.status.error();
  if (manifest_text.empty())
    return Error(
        ErrorCode::kCorrupt,
        path +
            " has no manifest.json: it is incomplete or not a crm-ai backup (use another backup)");
  json manifest = json::parse(manifest_text, nullptr, false);
  if (!manifest.is_object() || manifest.value("format", "") != "crm-ai-backup" ||
      !manifest.contains("files") || !manifest["files"].is_array() ||
      !manifest.contains("database") || !manifest["database"].is_object())
    return Error(ErrorCode::kCorrupt, path + ": manifest.json is not a crm-ai backup manifest");
  if (manifest.value("format_version", 0) > kFormatVersion)
    return Error(ErrorCode::kInvalidArgument,
                 path + " has format version " +
                     std::to_string(manifest.value("format_version", 0)) +
                     ", newer than this crm-ai reads (" + std::to_string(kFormatVersion) +
                     "); use a newer crm-ai");

  Summary s;
  s.path = path;
  s.encrypted = encrypted;
  s.manifest = manifest;
  std::set<std::string> listed;
  for (const auto& f : manifest["files"]) {
    std::string name = f.value("path", "");
    listed.insert(name);
    auto it = seen.find(name);
    if (it == seen.end())
      return Error(ErrorCode::kCorrupt,
                   path + ": " + name +
                       " is in the manifest but missing from the archive (use another backup)");
    if (it->second.size != f.value("size", int64_t{-1}))
      return Error(ErrorCode::kCorrupt,
                   path + ": " + name + " has " + std::to_string(it->second.size) +
                       " bytes, the manifest says " + std::to_string(f.value("size", int64_t{-1})) +
                       " (use another backup)");
    if (it->second.sha256 != f.value("sha256", ""))
      return Error(ErrorCode::kCorrupt, path + ": " + name +
                                            " does not match its SHA-256 in the manifest; the "
                                            "archive is damaged (use another backup)");
    s.files += 1;
    s.bytes += it->second.size;
  }
  for (const auto& [name, _] : seen)
    if (!listed.count(name))
      return Error(
          ErrorCode::kCorrupt,
          path + ": " + name + " is in the archive but not in the manifest; it was modified");
  if (!seen.count(std::string(kDatabaseName)))
    return Error(ErrorCode::kCorrupt, path + " holds no database snapshot; not a crm-ai backup");

  auto facts = InspectSnapshot((out_dir / "crm-ai.sqlite3").string(), true);
  if (!facts.ok())
    return Error(ErrorCode::kCorrupt,
                 path + ": " + facts.error().message + " (use another backup)");
  const json& db = manifest["database"];
  if (db.value("schema_version", -1) != facts->schema_version)
    return Error(ErrorCode::kCorrupt, path + ": the snapshot's migration level " +
                                          std::to_string(facts->schema_version) +
                                          " differs from the manifest's " +
                                          std::to_string(db.value("schema_version", -1)));
  json tables = db.value("tables", json::object());
  for (const auto& [table, n] : facts->tables) {
    if (!tables.contains(table) || tables[table] != n)
      return Error(ErrorCode::kCorrupt,
                   path + ": table " + table + " has " + std::to_string(n) +
                       " rows in the snapshot, the manifest says " +
                       (tables.contains(table) ? tables[table].dump() : std::string("none")));
  }
  if (tables.size() != facts->tables.size())
    return Error(ErrorCode::kCorrupt,
                 path + ": the manifest lists tables the snapshot does not have");
  s.rows = facts->rows;
  s.schema_version = facts->schema_version;
  std::error_code ec;
  s.archive_bytes = static_cast<int64_t>(fs::file_size(path, ec));
  return s;
}

bool IsEmptyOfFiles(const fs::path& dir, std::vector<std::string>* found, const fs::path& root,
                    size_t max) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code e;
    if (it->is_directory(e) && !it->is_symlink(e)) continue;
    found->push_back(it->path().lexically_relative(root).generic_string());
    if (found->size() >= max) return false;
  }
  return found->empty();
}

}  // namespace

std::string ArchiveStem(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "crm-ai-%Y%m%d-%H%M%SZ", &tm);
  return buf;
}

Result<Summary> CreateBackup(storage::Store& store, blobs::BlobStore& blobs,
                             const BackupOptions& o) {
  auto now = o.now.value_or(std::chrono::system_clock::now());
  std::error_code ec;
  fs::create_directories(o.output_dir, ec);
  if (ec)
    return IoError("cannot create the backup folder " + o.output_dir + ": " + ec.message() +
                   "; use --output DIR");
  fs::path tmp_dir = fs::path(o.data_dir) / "tmp";
  fs::create_directories(tmp_dir, ec);
  std::string id = NewId();
  fs::path snapshot = tmp_dir / ("backup-" + id + ".sqlite3");
  std::string stem = ArchiveStem(now);
  std::string final_name = stem + ".tar.zst" + (o.passphrase.empty() ? "" : ".enc");
  fs::path partial = fs::path(o.output_dir) / ("." + stem + "-" + id + ".partial");
  struct Cleanup {
    std::vector<fs::path> paths;
    ~Cleanup() {
      std::error_code e;
      for (auto& p : paths) fs::remove(p, e);
    }
  } cleanup{{snapshot, partial}};

  // 1. The database at one instant.
  CRM_ASSIGN_OR_RETURN(std::string db_format, store.Snapshot(snapshot.string()));
  CRM_ASSIGN_OR_RETURN(DatabaseFacts facts, InspectSnapshot(snapshot.string(), false));

  // 2. The archive stream: file, then encryption when a passphrase is set.
  CRM_ASSIGN_OR_RETURN(auto file, CreateFileSink(partial.string()));
  std::unique_ptr<Sink> sink;
  if (o.passphrase.empty()) {
    sink = std::move(file);
  } else {
    CRM_ASSIGN_OR_RETURN(sink, EncryptingSink(std::move(file), o.passphrase));
  }
  ArchiveWriter writer(*sink, now);
  CRM_ASSIGN_OR_RETURN(std::string compression, writer.Open());

  json files = json::array();
  CRM_ASSIGN_OR_RETURN(json db_entry,
                       AddFile(writer, std::string(kDatabaseName), snapshot.string()));
  files.push_back(db_entry);
  CRM_ASSIGN_OR_RETURN(json key_entry,
                       AddBytes(writer, std::string(kAppKeyName), o.app_key + "\n"));
  files.push_back(key_entry);
  std::vector<std::string> vanished;
  std::vector<std::string> keys;
  CRM_TRY(blobs.List([&](const blobs::BlobInfo& b) {
    keys.push_back(b.key);
    return OkStatus();
  }));
  for (const auto& key : keys) {
    CRM_ASSIGN_OR_RETURN(auto entry, AddBlob(writer, blobs, key));
    if (entry)
      files.push_back(*entry);
    else
      vanished.push_back(key);
  }

  Summary s;
  for (const auto& f : files) {
    s.files += 1;
    s.bytes += f["size"].get<int64_t>();
  }
  json manifest = {
      {"format", "crm-ai-backup"},
      {"format_version", kFormatVersion},
      {"product_version", o.product_version},
      {"created_at", IsoTime(now)},
      {"compression", compression},
      {"encrypted", !o.passphrase.empty()},
      {"database",
       {{"backend", std::string(store.dialect().name())},
        {"format", db_format},
        {"path", std::string(kDatabaseName)},
        {"schema_version", facts.schema_version},
        {"tables", facts.tables},
        {"rows", facts.rows}}},
      {"totals", {{"files", s.files}, {"bytes", s.bytes}, {"rows", facts.rows}}},
      {"files", files},
      // Incremental archives will name the archive they build on here (blobs already there).
      {"base", nullptr},
  };
  if (!vanished.empty()) manifest["vanished_blobs"] = vanished;
  CRM_TRY(AddBytes(writer, std::string(kManifestName), manifest.dump(1)));
  CRM_TRY(writer.Close());
  CRM_TRY(sink->Finish());

  // 3. Into place under its final name, durably; never a half archive under that name.
  fs::path final_path = fs::path(o.output_dir) / final_name;
  if (RenameNoReplace(partial, final_path) != 0) {
    int err = errno;
    if (err == EEXIST)
      return Error(ErrorCode::kConflict, "a backup named " + final_path.string() +
                                             " already exists; run again in a second");
    return IoError("cannot rename the archive to " + final_path.string() + ": " +
                   std::strerror(err));
  }
  CRM_TRY(SyncDirectory(o.output_dir));

  s.path = final_path.string();
  s.archive_bytes = static_cast<int64_t>(fs::file_size(final_path, ec));
  s.rows = facts.rows;
  s.schema_version = facts.schema_version;
  s.encrypted = !o.passphrase.empty();
  s.vanished = std::move(vanished);
  s.manifest = std::move(manifest);
  return s;
}

Result<Summary> VerifyBackup(const std::string& archive, const std::string& passphrase,
                             const std::string& work_dir) {
  fs::path dir = fs::path(work_dir) / ("verify-" + NewId());
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create the work folder " + dir.string() + ": " + ec.message());
  auto result = ReadArchive(archive, passphrase, dir, false);
  fs::remove_all(dir, ec);
  return result;
}

std::vector<std::string> BlockingFiles(const std::string& data_dir, size_t max) {
  std::vector<std::string> found;
  std::error_code ec;
  fs::path root(data_dir);
  if (!fs::exists(root, ec)) return found;
  for (const auto& top : fs::directory_iterator(root, ec)) {
    std::string name = top.path().filename().string();
    // Speech models and archives are not data; tmp/ holds only leftovers; .restore-* is ours.
    if (name == "models" || name == "backups" || name == "tmp" || name.rfind(".restore-", 0) == 0)
      continue;
    std::error_code e;
    if (top.is_directory(e) && !top.is_symlink(e)) {
      IsEmptyOfFiles(top.path(), &found, root, max);
    } else {
      found.push_back(name);
    }
    if (found.size() >= max) break;
  }
  return found;
}

Result<Summary> RestoreBackup(const std::string& archive, const std::string& passphrase,
                              const std::string& data_dir, int max_schema_version) {
  fs::path root(data_dir);
  if (auto blocking = BlockingFiles(data_dir, 1); !blocking.empty())
    return Error(ErrorCode::kConflict, data_dir + " is not empty (" + blocking[0] +
                                           "); restore into an empty data directory");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec)
    return IoError("cannot create the data directory " + data_dir + ": " + ec.message() +
                   "; set DATA_DIR to a writable directory");
  fs::path staging = root / (".restore-" + NewId());
  fs::create_directory(staging, ec);
  if (ec) return IoError("cannot create " + staging.string() + ": " + ec.message());
  struct Remove {
    fs::path p;
    ~Remove() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } remove{staging};

  CRM_ASSIGN_OR_RETURN(Summary s, ReadArchive(archive, passphrase, staging, true));
  if (s.schema_version > max_schema_version)
    return Error(ErrorCode::kInvalidArgument,
                 archive + " was made by a newer crm-ai (migration level " +
                     std::to_string(s.schema_version) + ", this one knows up to " +
                     std::to_string(max_schema_version) + "); restore it with that version");
  auto blocking = BlockingFiles(data_dir, 1);
  if (!blocking.empty())
    return Error(ErrorCode::kConflict, data_dir + " is no longer empty (" + blocking[0] +
                                           " appeared); nothing was restored");

  // Make every extracted file and folder durable, then move the top-level entries into place.
  for (auto it = fs::recursive_directory_iterator(staging, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory()) CRM_TRY(SyncDirectory(it->path()));
  CRM_TRY(SyncDirectory(staging));
  std::vector<fs::path> tops;
  for (const auto& e : fs::directory_iterator(staging, ec)) tops.push_back(e.path().filename());
  std::vector<std::pair<fs::path, bool>> moved;  // name, replaced an empty folder
  auto roll_back = [&]() {
    std::error_code e;
    for (auto it = moved.rbegin(); it != moved.rend(); ++it) {
      fs::rename(root / it->first, staging / it->first, e);
      if (it->second) fs::create_directory(root / it->first, e);
    }
  };
  for (const auto& name : tops) {
    fs::path dest = root / name;
    bool was_empty_dir = fs::is_directory(dest, ec) && fs::is_empty(dest, ec);
    // rename(2) replaces an empty folder (recordings/ made by an earlier start) but no file.
    int rc = was_empty_dir ? ::rename((staging / name).c_str(), dest.c_str())
                           : RenameNoReplace(staging / name, dest);
    if (rc != 0) {
      int err = errno;
      roll_back();
      return IoError("cannot move " + name.string() + " into " + data_dir + ": " +
                     std::strerror(err) + "; nothing was restored");
    }
    moved.emplace_back(name, was_empty_dir);
  }
  CRM_TRY(SyncDirectory(root));
  return s;
}

// ---- retention

std::optional<std::chrono::sys_seconds> ArchiveTime(std::string_view name) {
  // crm-ai-YYYYMMDD-HHMMSSZ.tar...
  constexpr std::string_view prefix = "crm-ai-";
  if (name.size() < prefix.size() + 16 + 5 || name.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  std::string_view t = name.substr(prefix.size(), 16);
  std::string_view rest = name.substr(prefix.size() + 16);
  if (t[8] != '-' || t[15] != 'Z' || rest.substr(0, 5) != ".tar.") return std::nullopt;
  auto num = [&](size_t at, size_t n, int* out) {
    int v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return false;
      v = v * 10 + (t[i] - '0');
    }
    *out = v;
    return true;
  };
  int y, mo, d, h, mi, s;
  if (!num(0, 4, &y) || !num(4, 2, &mo) || !num(6, 2, &d) || !num(9, 2, &h) || !num(11, 2, &mi) ||
      !num(13, 2, &s))
    return std::nullopt;
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  return sys_days(ymd) + hours(h) + minutes(mi) + seconds(s);
}

std::vector<std::string> ArchivesToDelete(const std::vector<std::string>& names,
                                          const Retention& keep) {
  using namespace std::chrono;
  std::vector<std::pair<sys_seconds, std::string>> archives;
  for (const auto& n : names)
    if (auto t = ArchiveTime(n)) archives.emplace_back(*t, n);
  // Newest first (same second: by name, so the choice is stable).
  std::sort(archives.begin(), archives.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first > b.first : a.second > b.second;
  });
  std::set<std::string> kept;
  auto rule = [&](int count, auto period_of) {
    std::set<int64_t> periods;
    for (const auto& [t, n] : archives) {
      int64_t p = period_of(t);
      if (periods.count(p)) continue;
      if (static_cast<int>(periods.size()) >= count) break;
      periods.insert(p);
      kept.insert(n);
    }
  };
  rule(keep.daily, [](sys_seconds t) {
    return static_cast<int64_t>(floor<days>(t).time_since_epoch().count());
  });
  rule(keep.weekly, [](sys_seconds t) {
    sys_days d = floor<days>(t);
    unsigned iso = weekday{d}.iso_encoding();  // 1 = Monday
    sys_days thursday = d + days{4 - static_cast<int>(iso)};
    year y = year_month_day{thursday}.year();
    int64_t week = (thursday - sys_days{y / January / 1}).count() / 7 + 1;
    return static_cast<int64_t>(static_cast<int>(y)) * 100 + week;
  });
  rule(keep.monthly, [](sys_seconds t) {
    year_month_day ymd{floor<days>(t)};
    return static_cast<int64_t>(static_cast<int>(ymd.year())) * 100 +
           static_cast<unsigned>(ymd.month());
  });
  std::vector<std::string> doomed;
  for (const auto& [t, n] : archives)
    if (!kept.count(n)) doomed.push_back(n);
  return doomed;
}

Result<std::vector<std::string>> ApplyRetention(const std::string& dir, const Retention& keep) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file()) names.push_back(e.path().filename().string());
  if (ec) return IoError("cannot list the backups in " + dir + ": " + ec.message());
  auto doomed = ArchivesToDelete(names, keep);
  // What a backup killed mid-way left (a day old: a backup running now is not touched).
  auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (const auto& n : names) {
    if (n.rfind(".crm-ai-", 0) != 0 || n.size() < 8 || n.substr(n.size() - 8) != ".partial")
      continue;
    auto mtime = fs::last_write_time(fs::path(dir) / n, ec);
    if (!ec && mtime < day_ago) doomed.push_back(n);
  }
  for (const auto& n : doomed) {
    fs::remove(fs::path(dir) / n, ec);
    if (ec) return IoError("cannot delete the old backup " + n + ": " + ec.message());
  }
  if (!doomed.empty()) CRM_TRY(SyncDirectory(dir));
  return doomed;
}

}  // namespace crm::backup
