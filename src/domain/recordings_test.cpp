// A recording's processing is asked of its job queue, not joined from the jobs table: any queue
// implementation (database, Redis) answers through RecordingStore's ProcessingLookup.
#include "domain/recordings.h"

#include <gtest/gtest.h>

#include "blobs/blob_store.h"
#include "common/ids.h"
#include "common/text.h"
#include "storage/temp_database.h"

namespace crm::domain {
namespace {

class RecordingProcessing : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(InitCrypto());
    auto db = storage::TempDatabase::Create("crm-recording-status");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    auto blobs = blobs::OpenLocalBlobStore(db_->dir() / "blobs");
    ASSERT_TRUE(blobs.ok()) << blobs.error().message;
    blobs_ = std::move(blobs).value();
    Exec("INSERT INTO firms (id, name, created_at, updated_at) VALUES ('F1', 'Cabinet', ?, ?)");
    Exec("INSERT INTO clients (id, firm_id, name, created_at, updated_at) VALUES ('C1', 'F1', "
         "'Client', ?, ?)");
  }
  void Exec(const std::string& sql) {
    auto r = db_->store().Exec(sql, {NowIsoUtc(), NowIsoUtc()});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  void AddRecording(const std::string& id, const std::optional<std::string>& job_id) {
    auto r = db_->store().Exec(
        "INSERT INTO recordings (id, firm_id, client_id, blob_key, size_bytes, sha256, consent, "
        "job_id, created_at, updated_at) VALUES (?, 'F1', 'C1', ?, 10, 'ab', 1, ?, ?, ?)",
        {id, "recordings/F1/" + id, storage::Opt(job_id), NowIsoUtc(), NowIsoUtc()});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  std::unique_ptr<storage::TempDatabase> db_;
  std::unique_ptr<blobs::BlobStore> blobs_;
};

TEST_F(RecordingProcessing, StatusComesFromTheQueueItWasAskedOfInOneCallPerPage) {
  // The jobs table knows none of these ids: only the queue's answer can give them a state.
  AddRecording("R1", "JOB-RUNNING");
  AddRecording("R2", "JOB-FAILED");
  AddRecording("R3", std::nullopt);
  AddRecording("R4", "JOB-UNKNOWN");
  int calls = 0;
  std::vector<std::string> asked;
  RecordingStore recordings(
      db_->store(), *blobs_,
      [&](const std::string& firm, const std::vector<std::string>& ids)
          -> Result<std::map<std::string, Processing>> {
        ++calls;
        EXPECT_EQ(firm, "F1");
        asked = ids;
        std::map<std::string, Processing> out;
        out["JOB-RUNNING"] = {"processing", 0.42, "transcribing", 30, std::nullopt, std::nullopt};
        out["JOB-FAILED"] = {"failed", 0.1, std::nullopt, std::nullopt,
                             std::string("undecodable_audio"), std::string("bad file")};
        return out;
      });
  auto one = recordings.Get("F1", "R1");
  ASSERT_TRUE(one.ok()) << one.error().message;
  EXPECT_EQ((*one)["status"], "processing");
  EXPECT_EQ((*one)["processing"]["progress"], 42.0);
  EXPECT_EQ((*one)["processing"]["stage"], "transcribing");
  EXPECT_EQ((*one)["processing"]["eta_seconds"], 30);

  calls = 0;
  auto page = recordings.List("F1", 50, "", std::nullopt, std::nullopt);
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(asked.size(), 3u);  // R3 has no job: not asked
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& r : page->first) by_id[r["id"]] = r;
  EXPECT_EQ(by_id["R1"]["status"], "processing");
  EXPECT_EQ(by_id["R2"]["status"], "failed");
  EXPECT_EQ(by_id["R2"]["processing"]["error"]["code"], "undecodable_audio");
  EXPECT_EQ(by_id["R3"]["status"], "pending");
  EXPECT_EQ(by_id["R4"]["status"], "pending");  // the queue does not know it
}

TEST_F(RecordingProcessing, AQueueThatCannotAnswerIsAnErrorNotAGuess) {
  AddRecording("R1", "JOB-1");
  RecordingStore recordings(db_->store(), *blobs_,
                            [](const std::string&, const std::vector<std::string>&)
                                -> Result<std::map<std::string, Processing>> {
                              return Error(ErrorCode::kUnavailable, "queue down");
                            });
  auto one = recordings.Get("F1", "R1");
  ASSERT_FALSE(one.ok());
  EXPECT_EQ(one.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace crm::domain
