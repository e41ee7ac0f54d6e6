// Retention on generated archive names, the encrypted stream (wrong passphrase, one flipped
// byte, a cut end) and an archive round trip over a real SQLite store and local blob store.
#include "backup/backup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "backup/streams.h"
#include "common/ids.h"

namespace crm::backup {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

std::string NameAt(sys_seconds t, const std::string& ext = ".tar.zst") {
  return ArchiveStem(system_clock::time_point(t)) + ext;
}

sys_seconds At(int y, unsigned m, unsigned d, int h = 3) {
  return sys_days{year{y} / month{m} / day{d}} + hours{h};
}

TEST(Retention, ParsesOnlyArchiveNames) {
  EXPECT_EQ(ArchiveTime("crm-ai-20261207-153000Z.tar.zst"), At(2026, 12, 7, 15) + minutes{30});
  EXPECT_TRUE(ArchiveTime("crm-ai-20261207-153000Z.tar.zst.enc"));
  EXPECT_TRUE(ArchiveTime("crm-ai-20261207-153000Z.tar.gz"));
  EXPECT_FALSE(ArchiveTime("crm-ai-20261307-153000Z.tar.zst"));  // month 13
  EXPECT_FALSE(ArchiveTime("crm-ai-20260230-153000Z.tar.zst"));  // 30 February
  EXPECT_FALSE(ArchiveTime("crm-ai-20261207-153000.tar.zst"));
  EXPECT_FALSE(ArchiveTime(".crm-ai-20261207-153000Z-01J.partial"));
  EXPECT_FALSE(ArchiveTime("notes.txt"));
  EXPECT_EQ(ArchiveStem(system_clock::time_point(At(2026, 1, 2, 4) + seconds{5})),
            "crm-ai-20260102-040005Z");
}

TEST(Retention, KeepsSevenDailyFourWeeklyTwelveMonthly) {
  // Four backups a day (every 6 hours) for 500 days up to Monday 7 December 2026.
  std::vector<std::string> names;
  sys_seconds newest = At(2026, 12, 7, 18);
  for (int i = 0; i < 500 * 4; ++i) names.push_back(NameAt(newest - hours{6 * i}));
  names.push_back("README.txt");
  auto doomed = ArchivesToDelete(names, {});
  std::set<std::string> gone(doomed.begin(), doomed.end());
  std::set<std::string> kept;
  for (auto& n : names)
    if (!gone.count(n) && n != "README.txt") kept.insert(n);
  EXPECT_FALSE(gone.count("README.txt"));
  std::set<std::string> expected;
  // 7 daily: the newest (18:00) of 1..7 December.
  for (unsigned d = 1; d <= 7; ++d) expected.insert(NameAt(At(2026, 12, d, 18)));
  // 4 weekly (ISO weeks start on Monday): this week's newest is 7 Dec; then the Sundays 6, 29 Nov,
  // 22 Nov.
  for (unsigned d : {22u, 29u}) expected.insert(NameAt(At(2026, 11, d, 18)));
  expected.insert(NameAt(At(2026, 12, 6, 18)));
  // 12 monthly: December (7th), then the last day of November 2026 back to January 2026.
  for (unsigned m = 1; m <= 11; ++m) {
    year_month_day_last last_day{year{2026} / month{m} / last};
    expected.insert(NameAt(sys_days{last_day} + hours{18}));
  }
  EXPECT_EQ(kept, expected);
  EXPECT_EQ(kept.size(), 7u + 2u + 11u);  // 6 Dec and 7 Dec count for both daily and weekly
  EXPECT_EQ(gone.size(), names.size() - 1 - kept.size());
}

TEST(Retention, IsoWeeksAcrossTheNewYear) {
  // Thu 1 Jan 2026 is in ISO week 2026-W01; Sun 28 Dec 2025 in 2025-W52; Mon 29 Dec 2025 in
  // 2026-W01.
  std::vector<std::string> names = {NameAt(At(2026, 1, 1)), NameAt(At(2025, 12, 29)),
                                    NameAt(At(2025, 12, 28)), NameAt(At(2025, 12, 21))};
  auto doomed = ArchivesToDelete(names, {.daily = 0, .weekly = 2, .monthly = 0});
  EXPECT_EQ(doomed, (std::vector<std::string>{NameAt(At(2025, 12, 29)), NameAt(At(2025, 12, 21))}));
}

TEST(Retention, FewArchivesAreAllKeptAndTheDirectoryIsPruned) {
  fs::path dir = fs::temp_directory_path() / ("crm-retention-" + NewId());
  fs::create_directories(dir);
  std::vector<std::string> names;
  for (int i = 0; i < 3; ++i) names.push_back(NameAt(At(2026, 12, 7 - i)));
  EXPECT_TRUE(ArchivesToDelete(names, {}).empty());
  // Thirty consecutive days: 7 daily + weekly/monthly picks remain.
  for (int i = 0; i < 30; ++i) std::ofstream(dir / NameAt(At(2026, 12, 7) - days{i})) << "x";
  std::ofstream(dir / "other.txt") << "x";
  // Left by a backup killed yesterday, and by one running now.
  std::ofstream(dir / ".crm-ai-20261206-000000Z-01J.partial") << "x";
  fs::last_write_time(dir / ".crm-ai-20261206-000000Z-01J.partial",
                      fs::file_time_type::clock::now() - hours(25));
  std::ofstream(dir / ".crm-ai-20261207-000000Z-01K.partial") << "x";
  auto deleted = ApplyRetention(dir.string(), {});
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  int left = 0;
  for (auto& e : fs::directory_iterator(dir))
    left += ArchiveTime(e.path().filename().string()) ? 1 : 0;
  EXPECT_EQ(static_cast<size_t>(left) + deleted->size(), 30u + 1u);
  EXPECT_TRUE(fs::exists(dir / "other.txt"));
  EXPECT_FALSE(fs::exists(dir / ".crm-ai-20261206-000000Z-01J.partial"));
  EXPECT_TRUE(fs::exists(dir / ".crm-ai-20261207-000000Z-01K.partial"));
  // 1-7 Dec daily; weekly adds Sundays 29 and 22 Nov; monthly adds 30 Nov (newest of November).
  EXPECT_EQ(left, 7 + 2 + 1);
  fs::remove_all(dir);
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Streams : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    dir_ = fs::temp_directory_path() / ("crm-streams-" + NewId());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Encrypts `plain` into a file and returns its path.
  fs::path Encrypt(const std::string& plain, const std::string& passphrase) {
    fs::path p = dir_ / ("e-" + NewId());
    auto file = CreateFileSink(p.string());
    EXPECT_TRUE(file.ok());
    auto enc = EncryptingSink(std::move(file).value(), passphrase);
    EXPECT_TRUE(enc.ok());
    // In uneven pieces, to cross chunk boundaries anywhere.
    size_t at = 0, step = 1;
    while (at < plain.size()) {
      size_t n = std::min(step, plain.size() - at);
      EXPECT_TRUE((*enc)->Write(plain.data() + at, n).ok());
      at += n;
      step = step * 3 + 7;
    }
    EXPECT_TRUE((*enc)->Finish().ok());
    return p;
  }

  Result<std::string> Decrypt(const fs::path& p, const std::string& passphrase) {
    bool encrypted = false;
    CRM_ASSIGN_OR_RETURN(auto src, OpenArchiveSource(p.string(), passphrase, &encrypted));
    EXPECT_TRUE(encrypted);
    std::string out;
    char buf[10000];
    for (;;) {
      CRM_ASSIGN_OR_RETURN(size_t n, src->Read(buf, sizeof buf));
      if (n == 0) break;
      out.append(buf, n);
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(Streams, EncryptedRoundTripAndEveryFailure) {
  std::mt19937 rng(7);
  std::string plain(300 * 1024 + 17, '\0');
  for (auto& c : plain) c = static_cast<char>(rng());
  fs::path p = Encrypt(plain, "correct horse battery staple");
  std::string cipher = Slurp(p);
  EXPECT_EQ(cipher.substr(0, 8), "CRMAI-E1");
  EXPECT_EQ(cipher.find(plain.substr(1000, 64)), std::string::npos);

  auto back = Decrypt(p, "correct horse battery staple");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, plain);

  auto wrong = Decrypt(p, "wrong horse");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("wrong passphrase"), std::string::npos)
      << wrong.error().message;

  bool encrypted = false;
  auto none = OpenArchiveSource(p.string(), "", &encrypted);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("set BACKUP_PASSPHRASE"), std::string::npos);

  // One flipped byte in the second chunk.
  std::string flipped = cipher;
  flipped[kEncryptionHeaderSize + 70000] ^= 0x01;
  std::ofstream(dir_ / "flipped", std::ios::binary) << flipped;
  auto f = Decrypt(dir_ / "flipped", "correct horse battery staple");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("fails authentication"), std::string::npos) << f.error().message;

  // Cut at a chunk boundary (no final chunk) and in the middle of one.
  size_t chunk = 64 * 1024 + 17;
  for (size_t cut : {kEncryptionHeaderSize + 2 * chunk, kEncryptionHeaderSize + 2 * chunk + 100,
                     cipher.size() - 1}) {
    std::ofstream(dir_ / "cut", std::ios::binary | std::ios::trunc) << cipher.substr(0, cut);
    auto t = Decrypt(dir_ / "cut", "correct horse battery staple");
    ASSERT_FALSE(t.ok()) << cut;
    EXPECT_TRUE(t.error().message.find("truncated") != std::string::npos ||
                t.error().message.find("fails authentication") != std::string::npos)
        << t.error().message;
  }
  // Appended bytes.
  std::ofstream(dir_ / "long", std::ios::binary) << cipher << "x";
  auto l = Decrypt(dir_ / "long", "correct horse battery staple");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error().message.find("modified"), std::string::npos) << l.error().message;

  // Empty content still has its final chunk.
  auto e = Decrypt(Encrypt("", "p"), "p");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, "");
}

TEST_F(Streams, ArchiveRoundTripThroughTheStores) {
  fs::path data = dir_ / "data";
  fs::create_directories(data / "backups");
  auto store = storage::OpenSqlite({(data / "crm-ai.sqlite3").string()});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE((*store)->Exec("INSERT INTO schema_migrations VALUES (3)").ok());
  ASSERT_TRUE((*store)->Exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)").ok());
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE((*store)
                    ->Exec("INSERT INTO notes (body) VALUES (?)", {std::string(100, 'a' + i % 26)})
                    .ok());
  auto blobs = blobs::OpenLocalBlobStore(data);
  ASSERT_TRUE(blobs.ok());
  std::string big(3 * 1024 * 1024 + 5, '\0');
  std::mt19937 rng(1);
  for (auto& c : big) c = static_cast<char>(rng());
  ASSERT_TRUE((*blobs)->PutBytes("recordings/F1/R1", big).ok());
  ASSERT_TRUE((*blobs)->PutBytes("documents/F1/D1", "bonjour").ok());
  ASSERT_TRUE((*blobs)->PutBytes("tmp/blobs/blob-x", "temporary").ok());
  std::ofstream(data / "models" / "ggml-x.bin") << "model";

  for (std::string passphrase : {"", "secret phrase"}) {
    BackupOptions o{data.string(),
                    (data / "backups").string(),
                    passphrase,
                    "base64:KEY",
                    "1.2.3",
                    3,
                    system_clock::now() + seconds(passphrase.empty() ? 0 : 1)};
    auto made = CreateBackup(**store, **blobs, o);
    ASSERT_TRUE(made.ok()) << made.error().message;
    EXPECT_EQ(made->files, 4);  // database, key, 2 blobs (not tmp/, not models/)
    EXPECT_EQ(made->rows, 51);
    EXPECT_EQ(made->manifest["database"]["tables"]["notes"], 50);
    EXPECT_EQ(fs::path(made->path).extension(), passphrase.empty() ? ".zst" : ".enc");

    auto verified = VerifyBackup(made->path, passphrase, dir_.string());
    ASSERT_TRUE(verified.ok()) << verified.error().message;
    EXPECT_EQ(verified->files, 4);
    EXPECT_EQ(verified->bytes, made->bytes);

    fs::path target = dir_ / ("restored-" + NewId());
    auto restored = RestoreBackup(made->path, passphrase, target.string(), 3);
    ASSERT_TRUE(restored.ok()) << restored.error().message;
    EXPECT_EQ(Slurp(target / "recordings/F1/R1"), big);
    EXPECT_EQ(Slurp(target / "documents/F1/D1"), "bonjour");
    EXPECT_EQ(Slurp(target / "app.key"), "base64:KEY\n");
    EXPECT_FALSE(fs::exists(target / "tmp/blobs/blob-x"));
    auto again = storage::OpenSqlite({(target / "crm-ai.sqlite3").string()});
    ASSERT_TRUE(again.ok());
    auto n = (*again)->Query("SELECT COUNT(*) AS n FROM notes");
    ASSERT_TRUE(n.ok());
    EXPECT_EQ((*n)[0].Int("n"), 50);

    // Not empty any more: refused, nothing changed.
    auto twice = RestoreBackup(made->path, passphrase, target.string(), 3);
    ASSERT_FALSE(twice.ok());
    EXPECT_NE(twice.error().message.find("not empty"), std::string::npos);
    // A newer schema than this binary knows: refused.
    auto newer = RestoreBackup(made->path, passphrase, (dir_ / ("n-" + NewId())).string(), 2);
    ASSERT_FALSE(newer.ok());
    EXPECT_NE(newer.error().message.find("newer crm-ai"), std::string::npos);
  }
}

}  // namespace
}  // namespace crm::backup
