// Backups of a data directory: one archive file holding a consistent database snapshot, every
// blob, the application key and a manifest of checksums; verified without restoring; restored
// into an empty data directory. See README.md for the archive format and its encryption.
//
// The database is read through Store::Snapshot (SQLite's online backup API; a server database
// writes its logical dump there) and the blobs through BlobStore::List/Open, so `serve` and
// workers keep running while a backup is taken. Nothing is loaded whole into memory: files stream
// through the archive writer and reader in 1 MiB pieces.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "blobs/blob_store.h"
#include "common/result.h"
#include "storage/store.h"

namespace crm::backup {

inline constexpr int kFormatVersion = 1;
// Names inside the archive.
inline constexpr std::string_view kManifestName = "manifest.json";
inline constexpr std::string_view kDatabaseName = "database/crm-ai.sqlite3";
inline constexpr std::string_view kAppKeyName = "keys/app.key";
inline constexpr std::string_view kBlobPrefix = "blobs/";

struct BackupOptions {
  std::string data_dir;         // where the database lives (its tmp/ holds the snapshot file)
  std::string output_dir;       // where the archive is written ($DATA_DIR/backups)
  std::string passphrase;       // BACKUP_PASSPHRASE; empty: a plain archive
  std::string app_key;          // written as keys/app.key
  std::string product_version;  // recorded in the manifest
  int schema_version = 0;       // the binary's latest migration (the snapshot's is read from it)
  // The archive's time (its name and created_at); now when unset.
  std::optional<std::chrono::system_clock::time_point> now;
};

struct Summary {
  std::string path;           // the archive
  int64_t archive_bytes = 0;  // its size on disk
  int64_t files = 0;          // files in the manifest (database, key, blobs)
  int64_t bytes = 0;          // their total size, uncompressed
  int64_t rows = 0;           // database rows, all tables
  int schema_version = 0;     // the snapshot's migration level
  bool encrypted = false;
  std::vector<std::string> vanished;  // blobs deleted while the backup ran (not in the archive)
  nlohmann::json manifest;
};

// Writes a new archive `output_dir/crm-ai-YYYYMMDD-HHMMSSZ.tar.zst` (".enc" appended when
// encrypted) under a temporary name, fsyncs it and renames it into place.
Result<Summary> CreateBackup(storage::Store& store, blobs::BlobStore& blobs,
                             const BackupOptions& options);

// Reads `archive` end to end: every file against the manifest's size and SHA-256, the database
// snapshot through PRAGMA integrity_check and its row counts and migration level against the
// manifest. `work_dir` receives the snapshot while it is checked (removed afterwards).
Result<Summary> VerifyBackup(const std::string& archive, const std::string& passphrase,
                             const std::string& work_dir);

// Why `data_dir` is not empty enough to restore into: the files found (a few, relative paths);
// empty when it may be restored into. Speech models (models/), archives (backups/) and
// temporary files (tmp/) do not count; empty folders neither.
std::vector<std::string> BlockingFiles(const std::string& data_dir, size_t max = 5);

// Restores `archive` into the empty `data_dir`: everything is extracted and verified in a
// temporary folder inside it, then moved into place. On any failure `data_dir` is left as it was.
// Refuses an archive whose migration level is above `max_schema_version` (a newer crm-ai's).
Result<Summary> RestoreBackup(const std::string& archive, const std::string& passphrase,
                              const std::string& data_dir, int max_schema_version);

// Retention: the newest archive of each of the last `daily` days, `weekly` ISO weeks and
// `monthly` months (of the archives present, by the time in their names) is kept.
struct Retention {
  int daily = 7;
  int weekly = 4;
  int monthly = 12;
};

// The time in an archive's file name ("crm-ai-20261207-153000Z.tar.zst[.enc]"), if it is one.
std::optional<std::chrono::sys_seconds> ArchiveTime(std::string_view file_name);
// "crm-ai-YYYYMMDD-HHMMSSZ" for `t` (UTC).
std::string ArchiveStem(std::chrono::system_clock::time_point t);
// Of `names` (file names; others than archives are ignored), those the retention removes.
std::vector<std::string> ArchivesToDelete(const std::vector<std::string>& names,
                                          const Retention& keep);
// Applies it to the archives in `dir`, and removes partial archives a killed backup left there
// over a day ago; returns the names deleted.
Result<std::vector<std::string>> ApplyRetention(const std::string& dir, const Retention& keep);

}  // namespace crm::backup
