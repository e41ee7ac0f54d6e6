// `crm-ai backup`, `backup --verify` and `restore` against the real binary and a data directory
// filled through the real server: a backup taken while a client keeps writing, restored into a
// fresh directory (every row and blob compared, the snapshot consistent), served again; the
// encrypted archive with the right and a wrong passphrase; a cut and a modified archive; a
// non-empty data directory refused with nothing changed.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/ids.h"
#include "test_server.h"

namespace crm::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Every row of every table of a SQLite database, as text lines per table.
std::map<std::string, std::multiset<std::string>> Dump(const std::string& path) {
  std::map<std::string, std::multiset<std::string>> out;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK) << path;
  std::vector<std::string> tables;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(
      db, "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'", -1, &st,
      nullptr);
  while (sqlite3_step(st) == SQLITE_ROW)
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  sqlite3_finalize(st);
  for (auto& t : tables) {
    auto& rows = out[t];
    sqlite3_prepare_v2(db, ("SELECT * FROM \"" + t + "\"").c_str(), -1, &st, nullptr);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string line;
      for (int i = 0; i < sqlite3_column_count(st); ++i) {
        const void* b = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        line +=
            std::to_string(sqlite3_column_type(st, i)) + ":" +
            (b ? std::string(static_cast<const char*>(b), static_cast<size_t>(n)) : std::string()) +
            "|";
      }
      rows.insert(line);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close_v2(db);
  return out;
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr);
  std::string r = sqlite3_step(st) == SQLITE_ROW
                      ? reinterpret_cast<const char*>(sqlite3_column_text(st, 0))
                      : "?";
  sqlite3_finalize(st);
  sqlite3_close_v2(db);
  return r;
}

// Blob files of a data directory (what is not the database, the key, tmp/, models/, backups/).
std::map<std::string, std::string> Blobs(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto& top : fs::directory_iterator(dir)) {
    std::string name = top.path().filename().string();
    if (!top.is_directory() || name == "tmp" || name == "models" || name == "backups") continue;
    for (auto& e : fs::recursive_directory_iterator(top.path()))
      if (e.is_regular_file())
        out[fs::relative(e.path(), dir).string()] = ReadFile(e.path().string());
  }
  return out;
}

std::string Multipart(const std::string& file, const std::string& filename) {
  return "--bNd\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
         "\"\r\nContent-Type: application/pdf\r\n\r\n" + file + "\r\n--bNd--\r\n";
}

std::string ArchivePath(const std::string& out) {
  auto at = out.find("backup ");
  while (at != std::string::npos && at != 0 && out[at - 1] != '\n')
    at = out.find("backup ", at + 1);
  if (at == std::string::npos) return "";
  auto end = out.find(':', at);
  return out.substr(at + 7, end - at - 7);
}

std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::recursive_directory_iterator(dir))
    out.push_back(e.path().string() +
                  (e.is_regular_file() ? ":" + std::to_string(e.file_size()) : ""));
  std::sort(out.begin(), out.end());
  return out;
}

class BackupRestore : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    InitCrypto();
    work_ = new std::string((fs::temp_directory_path() / ("crm-bk-" + RandomHex(6))).string());
    fs::create_directories(*work_);
    passphrase_file_ = new std::string(*work_ + "/passphrase");
    SetPassphrase("");
    // Thirty seconds of 16 kHz mono speech-band noise: about 1 MB.
    std::string wav = *work_ + "/rdv.wav";
    ASSERT_EQ(std::system(("ffmpeg -v error -y -f lavfi -i anoisesrc=d=30:c=pink:a=0.3 -ar 16000 "
                           "-ac 1 -c:a pcm_s16le " +
                           wav)
                              .c_str()),
              0);
    wav_ = new std::string(ReadFile(wav));
    s_ = new TestServer({{"QUEUE_WORKERS", "0"},
                         {"RATE_LIMIT_API", "off"},
                         {"BACKUP_PASSPHRASE_FILE", *passphrase_file_}});
    ASSERT_TRUE(s_->Start()) << s_->log();
    firm_ = new TestFirm(CreateFirm(*s_, "Cabinet Dupont"));
    auto h = Bearer(firm_->api_key);
    client_ = new std::string(
        s_->Call("POST", "/api/clients", {{"name", "Mme Lefèvre"}}, h).json()["id"]);
    for (int i = 0; i < 20; ++i)
      s_->Call("POST", "/api/clients", {{"name", "Client " + std::to_string(i)}}, h);
    auto meeting = s_->Call(
        "POST", "/api/meetings",
        {{"client_id", *client_}, {"title", "RDV"}, {"starts_at", "2026-12-01T09:00:00Z"}}, h);
    auto rec = Send(
        s_->port(),
        {"POST",
         "/api/meetings/" + meeting.json()["id"].get<std::string>() + "/recordings?consent=true",
         *wav_,
         {{"Authorization", "Bearer " + firm_->api_key}, {"Content-Type", "audio/wav"}}});
    ASSERT_EQ(rec.status, 201) << rec.body;
    recording_ = new std::string(rec.json()["id"]);
    std::string pdf =
        "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    auto doc = Send(s_->port(), {"POST",
                                 "/api/clients/" + *client_ + "/documents",
                                 Multipart(pdf, "contrat.pdf"),
                                 {{"Authorization", "Bearer " + firm_->api_key},
                                  {"Content-Type", "multipart/form-data; boundary=bNd"}}});
    ASSERT_EQ(doc.status, 201) << doc.body;
  }
  static void TearDownTestSuite() {
    delete s_;
    std::error_code ec;
    fs::remove_all(*work_, ec);
  }
  static void SetPassphrase(const std::string& p) {
    std::ofstream(*passphrase_file_, std::ios::trunc) << p;
  }

  static TestServer* s_;
  static TestFirm* firm_;
  static std::string *work_, *passphrase_file_, *wav_, *client_, *recording_;
};
TestServer* BackupRestore::s_ = nullptr;
TestFirm* BackupRestore::firm_ = nullptr;
std::string *BackupRestore::work_, *BackupRestore::passphrase_file_, *BackupRestore::wav_,
    *BackupRestore::client_, *BackupRestore::recording_;

TEST_F(BackupRestore, WhileTheServerWritesThenRestoredIntoAFreshDirectoryAndServed) {
  SetPassphrase("");
  // A client writing all along: numbered clients, one after the other.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    auto h = Bearer(firm_->api_key);
    for (int i = 0; !stop; ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "W-%05d", i);
      if (s_->Call("POST", "/api/clients", {{"name", name}}, h).status == 201) ++written;
    }
  });
  while (written < 20) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int before = written;
  auto made = s_->Run({"backup"});
  int after = written;
  stop = true;
  writer.join();
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_GT(after, before) << "the server kept writing during the backup";
  EXPECT_NE(made.out.find("not encrypted"), std::string::npos) << made.out;
  std::string archive = ArchivePath(made.out);
  ASSERT_TRUE(fs::exists(archive)) << made.out;
  EXPECT_EQ(fs::path(archive).parent_path(), fs::path(s_->data_dir()) / "backups");
  EXPECT_NE(fs::path(archive).filename().string().find(".tar.zst"), std::string::npos);
  std::printf("[ measured ] %s\n", made.out.substr(made.out.find("backup ")).c_str());
  for (auto& e : fs::directory_iterator(fs::path(archive).parent_path()))  // no temporary left
    EXPECT_EQ(e.path().filename().string().rfind(".", 0), std::string::npos) << e.path();

  auto verified = s_->Run({"backup", "--verify", archive});
  ASSERT_EQ(verified.exit_code, 0) << verified.err;
  EXPECT_NE(verified.out.find("every checksum matches"), std::string::npos) << verified.out;

  TestServer fresh({{"QUEUE_WORKERS", "0"}, {"BACKUP_PASSPHRASE_FILE", *passphrase_file_}});
  auto restored = fresh.Run({"restore", archive});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;

  // The snapshot is consistent: integrity_check passes, its counts are the manifest's (the
  // restore verified them; here their sum), the numbered clients are a prefix with no gap.
  std::string db = fresh.data_dir() + "/crm-ai.sqlite3";
  EXPECT_EQ(IntegrityCheck(db), "ok");
  auto restored_rows = Dump(db);
  int64_t total = 0;
  for (auto& [t, rows] : restored_rows) total += static_cast<int64_t>(rows.size());
  EXPECT_NE(restored.out.find(" " + std::to_string(total) + " database rows"), std::string::npos)
      << restored.out << total;
  std::set<std::string> numbered;
  for (auto& line : restored_rows["clients"]) {
    auto at = line.find("W-");
    if (at != std::string::npos) numbered.insert(line.substr(at, 7));
  }
  ASSERT_GE(numbered.size(), static_cast<size_t>(before));
  ASSERT_LE(numbered.size(), static_cast<size_t>(after) + 1);
  char last[32];
  std::snprintf(last, sizeof last, "W-%05zu", numbered.size() - 1);
  EXPECT_EQ(*numbered.rbegin(), last) << "a gap in the clients written during the backup";

  // Every row restored is a row of the source, except those the writes after the snapshot changed.
  ASSERT_EQ(s_->Stop(SIGTERM), 0);
  auto source_rows = Dump(s_->data_dir() + "/crm-ai.sqlite3");
  ASSERT_TRUE(s_->Start()) << s_->log();
  EXPECT_EQ(restored_rows.size(), source_rows.size());
  for (auto& [table, rows] : restored_rows) {
    size_t missing = 0;
    for (auto& r : rows)
      if (!source_rows[table].count(r)) ++missing;
    // The firm's data version and the API key's last use move with every write.
    if (table == "firm_data_versions" || table == "api_keys") {
      EXPECT_LE(missing, 2u) << table;
      EXPECT_EQ(rows.size(), source_rows[table].size()) << table;
    } else {
      EXPECT_EQ(missing, 0u) << table << ": restored rows that the source does not have";
    }
    if (table != "clients" && table != "firm_data_versions" && table != "api_keys" &&
        table != "audit_log")
      EXPECT_EQ(rows.size(), source_rows[table].size()) << table;
  }
  // Every blob, byte for byte, and the key.
  auto source_blobs = Blobs(s_->data_dir()), restored_blobs = Blobs(fresh.data_dir());
  EXPECT_GE(source_blobs.size(), 2u);
  EXPECT_EQ(restored_blobs, source_blobs);
  EXPECT_EQ(ReadFile(fresh.data_dir() + "/app.key"), ReadFile(s_->data_dir() + "/app.key"));

  // Served again: the client and the recording's audio through the API.
  ASSERT_TRUE(fresh.Start()) << fresh.log();
  auto client = fresh.Get("/api/clients/" + *client_, Bearer(firm_->api_key));
  ASSERT_EQ(client.status, 200) << client.body;
  EXPECT_EQ(client.json()["name"], "Mme Lefèvre");
  auto audio = fresh.Get("/api/recordings/" + *recording_ + "/audio", Bearer(firm_->api_key));
  ASSERT_EQ(audio.status, 200);
  EXPECT_EQ(audio.body, *wav_);
}

TEST_F(BackupRestore, EncryptedRoundTripAndAWrongPassphrase) {
  SetPassphrase("une phrase de passe assez longue");
  auto made = s_->Run({"backup"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out.find("not encrypted"), std::string::npos) << made.out;
  std::string archive = ArchivePath(made.out);
  ASSERT_NE(archive.find(".tar.zst.enc"), std::string::npos) << made.out;
  std::string bytes = ReadFile(archive);
  EXPECT_EQ(bytes.substr(0, 8), "CRMAI-E1");
  EXPECT_EQ(bytes.find("Lefèvre"), std::string::npos);
  EXPECT_EQ(bytes.find("manifest.json"), std::string::npos);

  TestServer fresh({{"QUEUE_WORKERS", "0"}, {"BACKUP_PASSPHRASE_FILE", *passphrase_file_}});
  SetPassphrase("une autre phrase");
  for (auto args :
       {std::vector<std::string>{"restore", archive}, {"backup", "--verify", archive}}) {
    auto wrong = fresh.Run(args);
    EXPECT_NE(wrong.exit_code, 0);
    EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
    EXPECT_EQ(std::count(wrong.err.begin(), wrong.err.end(), '\n'), 1) << wrong.err;
  }
  EXPECT_TRUE(Blobs(fresh.data_dir()).empty());
  EXPECT_FALSE(fs::exists(fresh.data_dir() + "/crm-ai.sqlite3"));
  SetPassphrase("");
  auto none = fresh.Run({"backup", "--verify", archive});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("set BACKUP_PASSPHRASE"), std::string::npos) << none.err;

  SetPassphrase("une phrase de passe assez longue");
  auto restored = fresh.Run({"restore", archive});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_NE(restored.out.find(", encrypted"), std::string::npos) << restored.out;
  EXPECT_EQ(Blobs(fresh.data_dir()), Blobs(s_->data_dir()));
  ASSERT_TRUE(fresh.Start()) << fresh.log();
  auto client = fresh.Get("/api/clients/" + *client_, Bearer(firm_->api_key));
  ASSERT_EQ(client.status, 200) << client.body;
  EXPECT_EQ(client.json()["name"], "Mme Lefèvre");
  SetPassphrase("");
}

TEST_F(BackupRestore, CutAndModifiedArchivesFailVerifyAndRestoreNamingWhat) {
  for (std::string passphrase : {"", "phrase de test"}) {
    SetPassphrase(passphrase);
    auto made = s_->Run({"backup"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    std::string archive = ArchivePath(made.out);
    std::string bytes = ReadFile(archive);
    ASSERT_GT(bytes.size(), 100000u);
    std::string cut = *work_ + "/cut" + (passphrase.empty() ? ".tar.zst" : ".tar.zst.enc");
    std::ofstream(cut, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
    std::string flipped = *work_ + "/flipped" + (passphrase.empty() ? ".tar.zst" : ".tar.zst.enc");
    std::string f = bytes;
    f[f.size() / 3] ^= 0x20;
    std::ofstream(flipped, std::ios::binary | std::ios::trunc) << f;
    for (auto& bad : {cut, flipped}) {
      auto v = s_->Run({"backup", "--verify", bad});
      EXPECT_NE(v.exit_code, 0) << bad;
      EXPECT_EQ(std::count(v.err.begin(), v.err.end(), '\n'), 1) << v.err;
      EXPECT_NE(v.err.find(bad), std::string::npos) << v.err;
      bool named = v.err.find("truncated") != std::string::npos ||
                   v.err.find("damaged") != std::string::npos ||
                   v.err.find("SHA-256") != std::string::npos ||
                   v.err.find("modified") != std::string::npos ||
                   v.err.find("incomplete") != std::string::npos;
      EXPECT_TRUE(named) << v.err;
      TestServer fresh({{"QUEUE_WORKERS", "0"}, {"BACKUP_PASSPHRASE_FILE", *passphrase_file_}});
      auto before = Listing(fresh.data_dir());
      auto r = fresh.Run({"restore", bad});
      EXPECT_NE(r.exit_code, 0) << bad;
      EXPECT_NE(r.err.find("nothing was restored"), std::string::npos) << r.err;
      EXPECT_EQ(Listing(fresh.data_dir()), before) << "a failed restore left files behind";
    }
    if (passphrase.empty()) {
      // A blob changed and the archive re-packed with the system's tar: well-formed, but not what
      // the manifest says.
      std::string x = *work_ + "/repack";
      fs::remove_all(x);
      fs::create_directories(x);
      ASSERT_EQ(std::system(("tar --zstd -xf " + archive + " -C " + x).c_str()), 0);
      std::string rec;
      for (auto& e : fs::recursive_directory_iterator(x + "/blobs/recordings"))
        if (e.is_regular_file()) rec = e.path().string();
      ASSERT_FALSE(rec.empty());
      std::string content = ReadFile(rec);
      content[content.size() / 2] ^= 0x01;
      std::ofstream(rec, std::ios::binary | std::ios::trunc) << content;
      std::string repacked = *work_ + "/repacked.tar.zst";
      ASSERT_EQ(std::system(("cd " + x + " && tar --zstd -cf " + repacked +
                             " database keys blobs manifest.json")
                                .c_str()),
                0);
      auto v = s_->Run({"backup", "--verify", repacked});
      EXPECT_NE(v.exit_code, 0);
      EXPECT_NE(v.err.find("blobs/recordings/"), std::string::npos) << v.err;
      EXPECT_NE(v.err.find("does not match its SHA-256"), std::string::npos) << v.err;
      std::printf("[ measured ] repacked: %s", v.err.c_str());
    }
    std::printf("[ measured ] %s -> cut: %s", passphrase.empty() ? "plain" : "encrypted",
                s_->Run({"backup", "--verify", cut}).err.c_str());
  }
  SetPassphrase("");
}

TEST_F(BackupRestore, RestoreRefusesANonEmptyDataDirectoryAndChangesNothing) {
  SetPassphrase("");
  auto made = s_->Run({"backup"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string archive = ArchivePath(made.out);
  auto before = Listing(s_->data_dir());
  std::string db_before = ReadFile(s_->data_dir() + "/crm-ai.sqlite3");
  auto r = s_->Run({"restore", archive});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("is not empty"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("crm-ai.sqlite3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("empty folder"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // The running server's files are untouched (its own writes aside, none happen here).
  EXPECT_EQ(ReadFile(s_->data_dir() + "/crm-ai.sqlite3"), db_before);
  auto after = Listing(s_->data_dir());
  EXPECT_EQ(after, before);

  // Empty folders (an earlier start) and speech models do not count.
  TestServer fresh({{"QUEUE_WORKERS", "0"}, {"BACKUP_PASSPHRASE_FILE", *passphrase_file_}});
  fs::create_directories(fresh.data_dir() + "/recordings");
  fs::create_directories(fresh.data_dir() + "/models");
  std::ofstream(fresh.data_dir() + "/models/ggml-tiny.bin") << "model";
  std::ofstream(fresh.data_dir() + "/notes.txt") << "mine";
  auto refused = fresh.Run({"restore", archive});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("notes.txt"), std::string::npos) << refused.err;
  fs::remove(fresh.data_dir() + "/notes.txt");
  auto ok = fresh.Run({"restore", archive});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ReadFile(fresh.data_dir() + "/models/ggml-tiny.bin"), "model");

  // Bad usage: one line each.
  for (auto args : {std::vector<std::string>{"restore"},
                    {"restore", *work_ + "/none.tar.zst"},
                    {"backup", "--keep-daily", "many"},
                    {"backup", "--verify", *work_ + "/none.tar.zst"}}) {
    auto bad = s_->Run(args);
    EXPECT_NE(bad.exit_code, 0) << args.back();
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  }
}

TEST_F(BackupRestore, RetentionAfterEachBackupAndHelp) {
  SetPassphrase("");
  std::string out_dir = *work_ + "/archives";
  fs::create_directories(out_dir);
  // Old archives of every day of the last 40 days (their content does not matter to retention).
  auto now = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  for (int i = 1; i <= 40; ++i) {
    std::time_t t =
        std::chrono::system_clock::to_time_t(now - std::chrono::days(i) + std::chrono::hours(3));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char name[64];
    std::strftime(name, sizeof name, "crm-ai-%Y%m%d-%H%M%SZ.tar.zst", &tm);
    std::ofstream(out_dir + "/" + name) << "old";
  }
  auto made = s_->Run({"backup", "--output", out_dir, "--keep-daily", "3", "--keep-weekly", "0",
                       "--keep-monthly", "0"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_NE(made.out.find("38 old archive(s) deleted"), std::string::npos) << made.out;
  int left = 0;
  for (auto& e : fs::directory_iterator(out_dir))
    left += e.path().filename().string().rfind("crm-ai-", 0) == 0;
  EXPECT_EQ(left, 3);  // today's new one, yesterday, the day before

  auto help = s_->Run({"help"});
  EXPECT_NE(help.out.find("backup"), std::string::npos);
  EXPECT_NE(help.out.find("restore"), std::string::npos);
  EXPECT_NE(s_->Run({"help", "backup"}).out.find("--verify FILE"), std::string::npos);
}

}  // namespace
}  // namespace crm::testing
