// A real SQLite database with every migration applied and two firms, each with a client, a
// meeting and recordings, for the transcripts and search tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "asr/transcript.h"
#include "common/ids.h"
#include "common/principal.h"
#include "common/text.h"
#include "domain/transcripts.h"
#include "storage/migrations/migrations.h"
#include "storage/store.h"
#include "storage/temp_database.h"

namespace crm::domain {

class TranscriptsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::TempDatabase::Create("crm-transcripts");
    ASSERT_TRUE(db.ok()) << db.error().message;
    db_ = std::move(db).value();
    store_ = &db_->store();
    firm_a_ = AddFirm("Cabinet A");
    firm_b_ = AddFirm("Cabinet B");
    client_a_ = AddClient(firm_a_, "Hélène Martin", "Succession de sa tante à Annecy.");
    client_b_ = AddClient(firm_b_, "Client B", "");
    meeting_a_ = AddMeeting(firm_a_, client_a_, "Rendez-vous succession");
    alice_.authenticated = true;
    alice_.firm_id = firm_a_;
    alice_.user_id = "user-alice";
    alice_.role = "member";
  }
  void TearDown() override {
    store_ = nullptr;
    db_.reset();
  }

  std::string AddFirm(const std::string& name) {
    std::string id = NewId();
    Exec("INSERT INTO firms (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
         {id, name, NowIsoUtc(), NowIsoUtc()});
    return id;
  }
  std::string AddClient(const std::string& firm, const std::string& name,
                        const std::string& notes) {
    std::string id = NewId();
    Exec(
        "INSERT INTO clients (id, firm_id, name, notes, search_text, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        {id, firm, name, notes, FoldForSearch(name + " " + notes), NowIsoUtc(), NowIsoUtc()});
    return id;
  }
  std::string AddMeeting(const std::string& firm, const std::string& client,
                         const std::string& title) {
    std::string id = NewId();
    Exec(
        "INSERT INTO meetings (id, firm_id, client_id, title, starts_at, search_text, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {id, firm, client, title, NowIsoUtc(), FoldForSearch(title), NowIsoUtc(), NowIsoUtc()});
    return id;
  }
  std::string AddRecording(const std::string& firm, const std::string& client,
                           const std::string& meeting = {}) {
    std::string id = NewId();
    Exec(
        "INSERT INTO recordings (id, firm_id, client_id, meeting_id, blob_key, size_bytes, "
        "sha256, consent, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, 'x', 1, ?, ?)",
        {id, firm, client, meeting.empty() ? storage::Value{storage::Null{}} : meeting,
         "recordings/" + firm + "/" + id, NowIsoUtc(), NowIsoUtc()});
    return id;
  }
  void Exec(const std::string& sql, const storage::Params& p) {
    auto r = store_->Exec(sql, p);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }

  Status Save(const std::string& firm, const std::string& recording, const asr::Transcript& t) {
    return store_->Transaction(
        [&](storage::Connection& c) { return SaveEngineTranscript(c, firm, recording, t); });
  }

  // Three segments, two speakers, words on the first.
  static asr::Transcript Sample() {
    asr::Transcript t;
    t.language = "fr";
    t.duration = 9.5;
    asr::Segment a;
    a.start = 0;
    a.end = 2.5;
    a.text = " Bonjour Maître.";
    a.speaker = "SPEAKER_1";
    a.words = {{0, 1.2, " Bonjour", 0.9f, "SPEAKER_1"}, {1.2, 2.5, " Maître.", 0.8f, "SPEAKER_1"}};
    a.tokens = {50364, 1000};
    a.avg_logprob = -0.25f;
    asr::Segment b;
    b.start = 2.5;
    b.end = 6;
    b.text = " Je viens pour la succession d'Hélène.";
    b.speaker = "SPEAKER_2";
    asr::Segment c;
    c.start = 6;
    c.end = 9.5;
    c.text = " Très bien, asseyez-vous.";
    c.speaker = "SPEAKER_1";
    t.segments = {a, b, c};
    return t;
  }

  std::unique_ptr<storage::TempDatabase> db_;
  storage::Store* store_ = nullptr;
  std::string firm_a_, firm_b_, client_a_, client_b_, meeting_a_;
  Principal alice_;
};

}  // namespace crm::domain
