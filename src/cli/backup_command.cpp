// `crm-ai backup`, `crm-ai backup --verify FILE` and `crm-ai restore FILE` (src/backup). They run
// beside `serve` and workers on the same data: the snapshot takes no exclusive lock.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "backup/backup.h"
#include "cli/args.h"
#include "cli/bootstrap.h"
#include "cli/commands.h"
#include "storage/migrations/migrations.h"

#ifndef CRM_VERSION
#define CRM_VERSION "0.0.0"
#endif

namespace crm::cli {

namespace {

namespace fs = std::filesystem;

std::string Size(int64_t bytes) {
  char buf[32];
  if (bytes < 1024 * 1024)
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

int LatestMigration() {
  const auto& all = storage::EmbeddedMigrations();
  return all.empty() ? 0 : all.back().version;
}

// A --keep-* count: 0..1000.
Result<int> Count(const Args& args, const std::string& name, int fallback) {
  auto v = args.Value(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    int n = std::stoi(*v, &used);
    if (used == v->size() && n >= 0 && n <= 1000) return n;
  } catch (const std::exception&) {
  }
  return InvalidArgument("--" + name + " takes a number from 0 to 1000, not '" + *v + "'");
}

std::string Describe(const backup::Summary& s) {
  return std::to_string(s.files) + " files, " + Size(s.bytes) + " of data, " +
         std::to_string(s.rows) + " database rows, archive " + Size(s.archive_bytes) +
         (s.encrypted ? ", encrypted" : ", not encrypted");
}

int Verify(const config::Config& c, const std::string& file) {
  std::error_code ec;
  fs::path work = fs::path(c.data_dir) / "tmp";
  fs::create_directories(work, ec);
  if (ec) work = fs::temp_directory_path();
  auto started = std::chrono::steady_clock::now();
  auto s = backup::VerifyBackup(file, c.backup_passphrase, work.string());
  if (!s.ok()) return Fail("backup --verify: " + s.error().message);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "verified %s: %s; made %s by crm-ai %s, migration level %d; every checksum matches, "
      "integrity_check ok (%.1f s)\n",
      file.c_str(), Describe(*s).c_str(), s->manifest.value("created_at", "?").c_str(),
      s->manifest.value("product_version", "?").c_str(), s->schema_version, secs);
  return 0;
}

}  // namespace

int RunBackup(const std::vector<std::string>& argv) {
  auto args =
      ParseArgs(argv, {"verify", "output", "keep-daily", "keep-weekly", "keep-monthly"}, {});
  if (!args.ok()) return Fail(args.error().message);
  if (!args->positional.empty())
    return Fail("backup takes no argument '" + args->positional[0] +
                "' (to check an archive: crm-ai backup --verify FILE)");
  auto loaded = LoadConfigAndLogging();
  if (!loaded.ok()) return Fail(loaded.error().message);
  config::Config c = std::move(loaded).value();
  if (auto file = args->Value("verify")) return Verify(c, *file);

  backup::Retention keep;
  for (auto [name, field] : {std::pair{"keep-daily", &keep.daily},
                             {"keep-weekly", &keep.weekly},
                             {"keep-monthly", &keep.monthly}}) {
    auto n = Count(*args, name, *field);
    if (!n.ok()) return Fail(n.error().message);
    *field = *n;
  }
  if (Status refused = config::RefuseUnbuiltBackends(c); !refused.ok())
    return Fail(refused.error().message);
  std::error_code ec;
  if (!fs::is_regular_file(c.DatabasePath(), ec))
    return Fail("no database at " + c.DatabasePath() + ": nothing to back up (check DATA_DIR)");
  if (Status st = config::PrepareDataDir(c); !st.ok()) return Fail(st.error().message);
  backup::BackupOptions o;
  o.data_dir = c.data_dir;
  o.output_dir = args->Value("output").value_or(c.data_dir + "/backups");
  o.passphrase = c.backup_passphrase;
  o.app_key = c.app_key;
  o.product_version = CRM_VERSION;
  o.schema_version = LatestMigration();
  auto app = api::OpenApp(c, false);
  if (!app.ok()) return Fail(app.error().message);
  auto blobs = blobs::OpenLocalBlobStore(c.data_dir);
  if (!blobs.ok()) return Fail(blobs.error().message);
  if (o.passphrase.empty())
    std::printf(
        "note: BACKUP_PASSPHRASE is not set, so the archive is not encrypted (it holds the "
        "database and app.key: keep it safe)\n");

  auto started = std::chrono::steady_clock::now();
  auto s = backup::CreateBackup(*(*app)->store, **blobs, o);
  if (!s.ok()) return Fail("backup failed: " + s.error().message + "; no archive was written");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("backup %s: %s (%.1f s)\n", s->path.c_str(), Describe(*s).c_str(), secs);
  if (!s->vanished.empty())
    std::printf("note: %zu blob(s) deleted while the backup ran are not in it (first: %s)\n",
                s->vanished.size(), s->vanished.front().c_str());
  auto deleted = backup::ApplyRetention(o.output_dir, keep);
  if (!deleted.ok())
    return Fail("the backup was written, but retention failed: " + deleted.error().message);
  std::printf("retention (%d daily, %d weekly, %d monthly): %zu old archive(s) deleted\n",
              keep.daily, keep.weekly, keep.monthly, deleted->size());
  for (const auto& n : *deleted) std::printf("deleted %s\n", n.c_str());
  return 0;
}

int RunRestore(const std::vector<std::string>& argv) {
  auto args = ParseArgs(argv, {}, {});
  if (!args.ok()) return Fail(args.error().message);
  if (args->positional.size() != 1)
    return Fail("usage: crm-ai restore FILE (an archive made by crm-ai backup)");
  const std::string& file = args->positional[0];
  auto loaded = LoadConfigAndLogging();
  if (!loaded.ok()) return Fail(loaded.error().message);
  config::Config c = std::move(loaded).value();
  if (Status refused = config::RefuseUnbuiltBackends(c); !refused.ok())
    return Fail(refused.error().message);
  auto blocking = backup::BlockingFiles(c.data_dir, 4);
  if (!blocking.empty()) {
    std::string list;
    for (const auto& b : blocking) list += (list.empty() ? "" : ", ") + b;
    return Fail(
        "restore: DATA_DIR " + c.data_dir + " is not empty (" + list +
        (blocking.size() >= 4 ? ", ..." : "") +
        "); set DATA_DIR to an empty folder, or move these files away first; nothing was changed");
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec))
    return Fail("restore: no file " + file +
                " (give the path of an archive made by crm-ai backup)");
  auto started = std::chrono::steady_clock::now();
  auto s = backup::RestoreBackup(fs::absolute(file).string(), c.backup_passphrase, c.data_dir,
                                 LatestMigration());
  if (!s.ok())
    return Fail("restore: " + s.error().message +
                (s.error().message.find("nothing was") == std::string::npos
                     ? "; nothing was restored"
                     : ""));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("restored %s into %s: %s, migration level %d (%.1f s); start crm-ai serve on it\n",
              file.c_str(), c.data_dir.c_str(), Describe(*s).c_str(), s->schema_version, secs);
  if (!c.app_key.empty()) {
    std::string key;
    if (std::FILE* f = std::fopen((c.data_dir + "/app.key").c_str(), "r")) {
      char buf[4096];
      size_t n = std::fread(buf, 1, sizeof buf, f);
      std::fclose(f);
      key.assign(buf, n);
      while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
    }
    if (key != c.app_key)
      std::printf(
          "note: APP_KEY is set and differs from the backup's key (now in %s/app.key); unset "
          "APP_KEY or set it to that key, or stored secrets will not decrypt\n",
          c.data_dir.c_str());
  }
  return 0;
}

}  // namespace crm::cli
