#include "blobs/blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "storage/store.h"

namespace crm::blobs {
namespace {

namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    base_ = fs::temp_directory_path() / ("crm-blobs-" + RandomHex(6));
    root_ = base_ / "data";
    auto s = OpenLocalBlobStore(root_);
    ASSERT_TRUE(s.ok()) << s.error().message;
    blobs_ = std::move(s).value();
  }
  void TearDown() override { fs::remove_all(base_); }

  // A finished upload in DATA_DIR/tmp, as the HTTP layer leaves it.
  fs::path Upload(const std::string& content, const fs::path& dir = {}) {
    fs::path d = dir.empty() ? root_ / "tmp" / "uploads" : dir;
    fs::create_directories(d);
    fs::path p = d / ("upload-" + RandomHex(4));
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  fs::path base_, root_;
  std::unique_ptr<BlobStore> blobs_;
};

TEST_F(BlobStoreTest, PutMovesTheFileInAndReadsItBack) {
  fs::path upload = Upload("0123456789");
  ASSERT_TRUE(blobs_->Put("recordings/FIRM1/REC1", upload).ok());
  EXPECT_FALSE(fs::exists(upload)) << "the source is moved, not copied";
  EXPECT_TRUE(fs::exists(root_ / "recordings" / "FIRM1" / "REC1"));
  EXPECT_TRUE(*blobs_->Exists("recordings/FIRM1/REC1"));
  EXPECT_EQ(*blobs_->Size("recordings/FIRM1/REC1"), 10);
  EXPECT_EQ(*blobs_->ReadRange("recordings/FIRM1/REC1", 2, 5), "23456");
  auto reader = blobs_->Open("recordings/FIRM1/REC1");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 10);
  char buf[4];
  EXPECT_EQ(*(*reader)->ReadAt(8, buf, sizeof buf), 2u);
  EXPECT_EQ(std::string(buf, 2), "89");
}

TEST_F(BlobStoreTest, PutRefusesToReplaceAnExistingBlobUnlessAsked) {
  ASSERT_TRUE(blobs_->PutBytes("documents/F/D1", "first").ok());
  fs::path second = Upload("second");
  Status st = blobs_->Put("documents/F/D1", second);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kConflict);
  EXPECT_TRUE(fs::exists(second)) << "a refused Put keeps its source";
  EXPECT_EQ(*blobs_->ReadRange("documents/F/D1", 0, 100), "first");
  ASSERT_TRUE(blobs_->Put("documents/F/D1", second, {.overwrite = true}).ok());
  EXPECT_EQ(*blobs_->ReadRange("documents/F/D1", 0, 100), "second");
}

TEST_F(BlobStoreTest, PutFromAnotherFileSystemCopiesThenRemovesTheSource) {
  struct stat shm {
  }, data{};
  if (::stat("/dev/shm", &shm) != 0 || ::access("/dev/shm", W_OK) != 0 ||
      ::stat(root_.c_str(), &data) != 0 || shm.st_dev == data.st_dev)
    GTEST_SKIP() << "no second file system to test with";
  fs::path upload = Upload("across devices", fs::path("/dev/shm") / ("crm-blobs-" + RandomHex(4)));
  ASSERT_TRUE(blobs_->Put("recordings/F/R", upload).ok());
  EXPECT_FALSE(fs::exists(upload));
  fs::remove_all(upload.parent_path());
  EXPECT_EQ(*blobs_->ReadRange("recordings/F/R", 0, 100), "across devices");
  EXPECT_TRUE(fs::is_empty(root_ / "tmp" / "blobs")) << "no staging copy left behind";
}

TEST_F(BlobStoreTest, HostileKeysAreRefusedBeforeTheDiskIsTouched) {
  const std::string hostile[] = {
      "",
      "../escape",
      "recordings/../../escape",
      "/etc/passwd",
      "a//b",
      "a/./b",
      "a/",
      ".hidden",
      "a/..",
      "..",
      "a\\..\\b",
      "a b",
      "%2e%2e/x",
      "~/x",
      "recordings/é",
      std::string("a\0b", 3),
      "a\nb",
      std::string(513, 'a'),
      "a/" + std::string(256, 'b'),
      "recordings/F/.R",
  };
  for (const std::string& key : hostile) {
    SCOPED_TRACE("key: " + key);
    Status v = ValidateKey(key);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.error().code, ErrorCode::kInvalidArgument);
    fs::path upload = Upload("x");
    EXPECT_EQ(blobs_->Put(key, upload).error().code, ErrorCode::kInvalidArgument);
    EXPECT_TRUE(fs::exists(upload));
    EXPECT_FALSE(blobs_->PutBytes(key, "x").ok());
    EXPECT_FALSE(blobs_->Open(key).ok());
    EXPECT_FALSE(blobs_->ReadRange(key, 0, 1).ok());
    EXPECT_FALSE(blobs_->Exists(key).ok());
    EXPECT_FALSE(blobs_->Size(key).ok());
    EXPECT_FALSE(blobs_->Delete(key).ok());
    EXPECT_FALSE(blobs_->Move("recordings/F/R", key).ok());
  }
  EXPECT_FALSE(fs::exists(base_ / "escape"));
  for (const char* key : {"recordings/01HF/01HG", "documents/F1/contract.v2.pdf", "a-b_c.d"})
    EXPECT_TRUE(ValidateKey(key).ok()) << key;
}

TEST_F(BlobStoreTest, SymlinkPlantedInTheStoreIsNotFollowed) {
  fs::create_directories(root_ / "recordings" / "F");
  fs::create_symlink("/etc/hostname", root_ / "recordings" / "F" / "R");
  EXPECT_FALSE(*blobs_->Exists("recordings/F/R"));
  auto opened = blobs_->Open("recordings/F/R");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
}

TEST_F(BlobStoreTest, MoveRenamesAndNeverClobbers) {
  ASSERT_TRUE(blobs_->PutBytes("tmp/blobs/blob-1", "one").ok());
  ASSERT_TRUE(blobs_->PutBytes("recordings/F/taken", "taken").ok());
  ASSERT_TRUE(blobs_->Move("tmp/blobs/blob-1", "recordings/F/R1").ok());
  EXPECT_FALSE(*blobs_->Exists("tmp/blobs/blob-1"));
  EXPECT_EQ(*blobs_->ReadRange("recordings/F/R1", 0, 10), "one");
  EXPECT_EQ(blobs_->Move("recordings/F/R1", "recordings/F/taken").error().code,
            ErrorCode::kConflict);
  EXPECT_EQ(*blobs_->ReadRange("recordings/F/taken", 0, 10), "taken");
  EXPECT_EQ(blobs_->Move("recordings/F/missing", "recordings/F/R2").error().code,
            ErrorCode::kNotFound);
}

TEST_F(BlobStoreTest, ReadsAtTheEdgesAndMissingBlobs) {
  ASSERT_TRUE(blobs_->PutBytes("documents/F/D", "abc").ok());
  EXPECT_EQ(*blobs_->ReadRange("documents/F/D", 3, 10), "");
  EXPECT_EQ(*blobs_->ReadRange("documents/F/D", 1, 100), "bc");
  EXPECT_EQ(blobs_->ReadRange("documents/F/D", 4, 1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(blobs_->ReadRange("documents/F/D", -1, 1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(blobs_->ReadRange("documents/F/none", 0, 1).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(blobs_->Open("documents/F/D/deeper").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(blobs_->Size("documents/F/none").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(*blobs_->Exists("documents/F")) << "a folder is not a blob";
}

TEST_F(BlobStoreTest, DeleteIsIdempotentAndLeavesFoldersAlone) {
  ASSERT_TRUE(blobs_->PutBytes("documents/F/D", "abc").ok());
  ASSERT_TRUE(blobs_->Delete("documents/F/D").ok());
  EXPECT_FALSE(*blobs_->Exists("documents/F/D"));
  EXPECT_TRUE(blobs_->Delete("documents/F/D").ok());
  EXPECT_EQ(blobs_->Delete("documents/F").error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_directory(root_ / "documents" / "F"));
}

TEST_F(BlobStoreTest, SweepRemovesOnlyOldTemporaryBlobs) {
  std::string old_tmp = NewTemporaryKey(), fresh_tmp = NewTemporaryKey();
  EXPECT_EQ(old_tmp.rfind(kTemporaryPrefix, 0), 0u);
  ASSERT_TRUE(blobs_->PutBytes(old_tmp, "old").ok());
  ASSERT_TRUE(blobs_->PutBytes(fresh_tmp, "fresh").ok());
  ASSERT_TRUE(blobs_->PutBytes("recordings/F/old", "kept").ok());
  auto two_days_ago = fs::file_time_type::clock::now() - std::chrono::hours(48);
  fs::last_write_time(root_ / old_tmp, two_days_ago);
  fs::last_write_time(root_ / "recordings/F/old", two_days_ago);
  auto removed = blobs_->SweepTemporary(std::chrono::hours(24));
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1);
  EXPECT_FALSE(*blobs_->Exists(old_tmp));
  EXPECT_TRUE(*blobs_->Exists(fresh_tmp));
  EXPECT_TRUE(*blobs_->Exists("recordings/F/old"));
}

// The pattern of README.md: the file goes in under its final key, then its row is inserted; the
// blob is deleted when the insert fails. Nothing is copied inside the transaction.
TEST_F(BlobStoreTest, RowAndFileAppearTogetherOrNotAtAll) {
  auto store = storage::OpenSqlite({(base_ / "db.sqlite3").string()});
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->Exec("CREATE TABLE recordings (id TEXT PRIMARY KEY, blob_key TEXT)").ok());
  auto add = [&](const std::string& id, const std::string& key,
                 const std::string& content) -> Status {
    CRM_TRY(blobs_->Put(key, Upload(content)));
    Status st = (*store)->Transaction([&](storage::Connection& c) -> Status {
      CRM_TRY(c.Exec("INSERT INTO recordings (id, blob_key) VALUES (?, ?)", {id, key}));
      return OkStatus();
    });
    if (!st.ok()) (void)blobs_->Delete(key);
    return st;
  };
  ASSERT_TRUE(add("R1", "recordings/F/R1", "audio").ok());
  EXPECT_TRUE(*blobs_->Exists("recordings/F/R1"));
  ASSERT_FALSE(add("R1", "recordings/F/R1-again", "again").ok()) << "duplicate id: the insert fails";
  EXPECT_FALSE(*blobs_->Exists("recordings/F/R1-again")) << "the blob of a failed insert is gone";
  EXPECT_EQ(*blobs_->ReadRange("recordings/F/R1", 0, 10), "audio");
  auto rows = (*store)->QueryOne("SELECT COUNT(*) AS n FROM recordings");
  EXPECT_EQ((*rows)->Int("n"), 1);
}

}  // namespace
}  // namespace crm::blobs

namespace crm::blobs {
namespace {

TEST_F(BlobStoreTest, ListReportsEveryBlobInKeyOrderButNotWhatSharesTheDataDirectory) {
  ASSERT_TRUE(blobs_->PutBytes("recordings/F1/R2", "22").ok());
  ASSERT_TRUE(blobs_->PutBytes("recordings/F1/R1", "1").ok());
  ASSERT_TRUE(blobs_->PutBytes("documents/F2/D1", "333").ok());
  ASSERT_TRUE(blobs_->PutBytes("templates/F2/report-1", "4444").ok());
  ASSERT_TRUE(blobs_->PutBytes("tmp/blobs/blob-1", "temporary").ok());
  // Not blobs: the database and key at the top, speech models, archives, temporaries, a link.
  std::ofstream(root_ / "crm-ai.sqlite3") << "db";
  std::ofstream(root_ / "app.key") << "key";
  fs::create_directories(root_ / "models");
  std::ofstream(root_ / "models" / "ggml-base.bin") << "model";
  fs::create_directories(root_ / "backups");
  std::ofstream(root_ / "backups" / "crm-ai-20261207-000000Z.tar.zst") << "archive";
  fs::create_symlink(root_ / "app.key", root_ / "documents" / "F2" / "link");
  std::vector<std::pair<std::string, int64_t>> seen;
  ASSERT_TRUE(blobs_
                  ->List([&](const BlobInfo& b) {
                    seen.emplace_back(b.key, b.size);
                    return OkStatus();
                  })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, int64_t>>{{"documents/F2/D1", 3},
                                                                {"recordings/F1/R1", 1},
                                                                {"recordings/F1/R2", 2},
                                                                {"templates/F2/report-1", 4}}));
  // The callback's error stops the listing.
  int calls = 0;
  Status stopped = blobs_->List([&](const BlobInfo&) {
    ++calls;
    return Status(IoError("stop"));
  });
  EXPECT_FALSE(stopped.ok());
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace crm::blobs
