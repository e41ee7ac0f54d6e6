#include "domain/transcripts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "domain/transcripts_test_fixture.h"

namespace crm::domain {
namespace {

using TranscriptsTest = TranscriptsFixture;

int64_t Count(storage::Store& s, const std::string& table) {
  return (*s.QueryOne("SELECT COUNT(*) AS n FROM " + table))->Int("n");
}

TEST_F(TranscriptsTest, SavesSegmentsWordsAndEngineValues) {
  std::string rec = AddRecording(firm_a_, client_a_, meeting_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto t = LoadTranscript(*store_, firm_a_, rec);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->language, "fr");
  EXPECT_DOUBLE_EQ(t->duration, 9.5);
  ASSERT_EQ(t->segments.size(), 3u);
  EXPECT_EQ(t->segments[0].text, "Bonjour Maître.");  // trimmed
  EXPECT_EQ(t->segments[1].speaker, "SPEAKER_2");
  EXPECT_DOUBLE_EQ(t->segments[1].start, 2.5);
  ASSERT_EQ(t->segments[0].words.size(), 2u);
  EXPECT_EQ(t->segments[0].words[1].text, " Maître.");
  EXPECT_FLOAT_EQ(t->segments[0].words[1].probability, 0.8f);
  EXPECT_EQ(t->segments[0].tokens, (std::vector<int>{50364, 1000}));
  EXPECT_FLOAT_EQ(t->segments[0].avg_logprob, -0.25f);
}

TEST_F(TranscriptsTest, SavingTwiceKeepsOneCopyOfEachSegment) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto first = GetStoredTranscript(*store_, firm_a_, rec);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto second = GetStoredTranscript(*store_, firm_a_, rec);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(Count(*store_, "transcript_segments"), 3);
  EXPECT_EQ(Count(*store_, "transcripts"), 1);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(first->segments[i].id, second->segments[i].id);
  // The index holds one entry per segment too.
  EXPECT_EQ((*store_->QueryOne("SELECT COUNT(*) AS n FROM transcript_fts WHERE transcript_fts "
                               "MATCH 'bonjour'"))
                ->Int("n"),
            1);
}

TEST_F(TranscriptsTest, NewEngineOutputReplacesTheOldOneAtomically) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  asr::Transcript shorter = Sample();
  shorter.segments.pop_back();
  shorter.segments[1].text = " Je viens pour un divorce.";
  ASSERT_TRUE(Save(firm_a_, rec, shorter).ok());
  auto t = LoadTranscript(*store_, firm_a_, rec);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->segments.size(), 2u);
  EXPECT_EQ(t->segments[1].text, "Je viens pour un divorce.");
  EXPECT_EQ(Count(*store_, "transcript_segments"), 2);

  // A save that fails half-way leaves the previous output whole.
  asr::Transcript bad = Sample();
  bad.segments[2].start = std::numeric_limits<double>::quiet_NaN();
  Status st = Save(firm_a_, rec, bad);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(LoadTranscript(*store_, firm_a_, rec)->segments.size(), 2u);
}

TEST_F(TranscriptsTest, RetriedJobKeepsCorrectionsOfUnchangedSegments) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto stored = GetStoredTranscript(*store_, firm_a_, rec);
  auto edited = EditSegmentText(*store_, alice_, rec, stored->segments[1].id,
                                "Je viens pour la succession d'Hélène Martin.", std::nullopt);
  ASSERT_TRUE(edited.ok()) << edited.error().message;
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto t = LoadTranscript(*store_, firm_a_, rec);
  EXPECT_EQ(t->segments[1].text, "Je viens pour la succession d'Hélène Martin.");
  EXPECT_EQ(Count(*store_, "transcript_segments"), 3);
}

TEST_F(TranscriptsTest, RefusesARecordingOfAnotherFirmAndBadTimes) {
  std::string rec_b = AddRecording(firm_b_, client_b_);
  Status st = Save(firm_a_, rec_b, Sample());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Save(firm_a_, "no-such-recording", Sample()).error().code, ErrorCode::kNotFound);
  asr::Transcript bad = Sample();
  bad.segments[0].end = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Save(firm_b_, rec_b, bad).error().code, ErrorCode::kInvalidArgument);
  asr::Transcript reversed = Sample();
  reversed.segments[0].end = -1;
  reversed.segments[0].start = 1;
  ASSERT_TRUE(Save(firm_b_, rec_b, reversed).ok());  // end before start is clamped, not refused
  EXPECT_DOUBLE_EQ(LoadTranscript(*store_, firm_b_, rec_b)->segments[0].end, 1);
}

TEST_F(TranscriptsTest, ReadsAreScopedByFirm) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  EXPECT_EQ(LoadTranscript(*store_, firm_b_, rec).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(GetStoredTranscript(*store_, firm_b_, rec).error().code, ErrorCode::kNotFound);
  auto seg = GetStoredTranscript(*store_, firm_a_, rec)->segments[0].id;
  EXPECT_EQ(GetSegment(*store_, firm_b_, rec, seg).error().code, ErrorCode::kNotFound);
  Principal bob = alice_;
  bob.firm_id = firm_b_;
  EXPECT_EQ(EditSegmentText(*store_, bob, rec, seg, "x", std::nullopt).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(ListRevisions(*store_, firm_b_, rec, seg).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(NameSpeakers(*store_, bob, rec, {{"SPEAKER_1", "x"}}, std::nullopt).error().code,
            ErrorCode::kNotFound);
}

TEST_F(TranscriptsTest, EditsKeepHistoryAndTheEngineText) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto seg = GetStoredTranscript(*store_, firm_a_, rec)->segments[0];
  ASSERT_EQ(seg.version, 1);
  auto v2 = EditSegmentText(*store_, alice_, rec, seg.id, "  Bonjour Maître Dupont.  ", 1);
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(v2->version, 2);
  EXPECT_EQ(v2->text, "Bonjour Maître Dupont.");
  EXPECT_TRUE(v2->edited);

  // A stale version is a conflict and changes nothing.
  auto stale = EditSegmentText(*store_, alice_, rec, seg.id, "Autre texte.", 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(stale.error().details["current_version"], 2);

  Principal key = alice_;
  key.user_id.clear();
  key.api_key_id = "key-1";
  ASSERT_TRUE(EditSegmentText(*store_, key, rec, seg.id, "Bonjour, Maître Dupont.", 2).ok());
  // The same text again records nothing.
  auto same = EditSegmentText(*store_, alice_, rec, seg.id, "Bonjour, Maître Dupont.", 3);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version, 3);

  auto history = ListRevisions(*store_, firm_a_, rec, seg.id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].old_text, "Bonjour Maître.");
  EXPECT_EQ((*history)[0].new_text, "Bonjour Maître Dupont.");
  EXPECT_EQ((*history)[0].user_id, "user-alice");
  EXPECT_EQ((*history)[0].version, 2);
  EXPECT_EQ((*history)[1].api_key_id, "key-1");
  EXPECT_EQ((*history)[1].user_id, "");

  auto engine = LoadEngineTranscript(*store_, firm_a_, rec);
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(engine->segments[0].text, "Bonjour Maître.");
  auto current = LoadTranscript(*store_, firm_a_, rec);
  EXPECT_EQ(current->segments[0].text, "Bonjour, Maître Dupont.");
  // The corrected segment's words are re-aligned: "Bonjour" and "Maître" keep their times.
  ASSERT_EQ(current->segments[0].words.size(), 3u);
  EXPECT_EQ(current->segments[0].words[2].text, " Dupont.");
  EXPECT_EQ(GetStoredTranscript(*store_, firm_a_, rec)->segments[0].engine_text, "Bonjour Maître.");
}

TEST_F(TranscriptsTest, HistoryOfAReplacedSegmentStaysReadable) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto seg = GetStoredTranscript(*store_, firm_a_, rec)->segments[2];
  ASSERT_TRUE(EditSegmentText(*store_, alice_, rec, seg.id, "Très bien.", 1).ok());
  asr::Transcript other = Sample();
  other.segments[2].text = " Très bien, installez-vous.";
  ASSERT_TRUE(Save(firm_a_, rec, other).ok());
  EXPECT_EQ(GetSegment(*store_, firm_a_, rec, seg.id).error().code, ErrorCode::kNotFound);
  auto history = ListRevisions(*store_, firm_a_, rec, seg.id);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].new_text, "Très bien.");
}

TEST_F(TranscriptsTest, RejectsInvalidCorrections) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto seg = GetStoredTranscript(*store_, firm_a_, rec)->segments[0];
  auto empty = EditSegmentText(*store_, alice_, rec, seg.id, "   ", std::nullopt);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.error().details["text"], "required");
  auto binary = EditSegmentText(*store_, alice_, rec, seg.id, "a\xff", std::nullopt);
  EXPECT_EQ(binary.error().details["text"], "invalid_utf8");
  auto longer = EditSegmentText(*store_, alice_, rec, seg.id, std::string(10001, 'a'), 1);
  EXPECT_EQ(longer.error().details["text"], "too_long");
  // Invalid text is reported before a stale version.
  EXPECT_EQ(EditSegmentText(*store_, alice_, rec, seg.id, "", 99).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(EditSegmentText(*store_, alice_, rec, "nope", "x", 1).error().code,
            ErrorCode::kNotFound);
}

TEST_F(TranscriptsTest, SpeakerNamesApplyToSegmentsAndWords) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto names = NameSpeakers(*store_, alice_, rec, {{"SPEAKER_1", "  Maître Dupont "}}, 1);
  ASSERT_TRUE(names.ok()) << names.error().message;
  EXPECT_EQ(names->at("SPEAKER_1"), "Maître Dupont");
  auto t = LoadTranscript(*store_, firm_a_, rec);
  EXPECT_EQ(t->segments[0].speaker, "Maître Dupont");
  EXPECT_EQ(t->segments[0].words[0].speaker, "Maître Dupont");
  EXPECT_EQ(t->segments[1].speaker, "SPEAKER_2");
  EXPECT_EQ(t->segments[2].speaker, "Maître Dupont");
  auto stored = GetStoredTranscript(*store_, firm_a_, rec);
  EXPECT_EQ(stored->version, 2);
  EXPECT_EQ(stored->speakers, (std::vector<std::string>{"SPEAKER_1", "SPEAKER_2"}));
  EXPECT_EQ(stored->segments[0].speaker, "SPEAKER_1");
  EXPECT_EQ(stored->segments[0].speaker_name, "Maître Dupont");
  EXPECT_EQ(LoadEngineTranscript(*store_, firm_a_, rec)->segments[0].speaker, "SPEAKER_1");

  // Names survive a new engine output; an empty name removes one.
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  EXPECT_EQ(LoadTranscript(*store_, firm_a_, rec)->segments[0].speaker, "Maître Dupont");
  ASSERT_TRUE(NameSpeakers(*store_, alice_, rec, {{"SPEAKER_1", ""}}, std::nullopt).ok());
  EXPECT_EQ(LoadTranscript(*store_, firm_a_, rec)->segments[0].speaker, "SPEAKER_1");
}

TEST_F(TranscriptsTest, RejectsUnknownSpeakersAndStaleVersions) {
  std::string rec = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  auto unknown = NameSpeakers(*store_, alice_, rec, {{"SPEAKER_9", "X"}}, std::nullopt);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(unknown.error().details["SPEAKER_9"], "unknown_speaker");
  auto too_long = NameSpeakers(*store_, alice_, rec, {{"SPEAKER_1", std::string(101, 'a')}}, 1);
  EXPECT_EQ(too_long.error().details["SPEAKER_1"], "too_long");
  auto stale = NameSpeakers(*store_, alice_, rec, {{"SPEAKER_1", "X"}}, 7);
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
}

TEST_F(TranscriptsTest, DeletingTheRecordingRemovesEverything) {
  std::string rec = AddRecording(firm_a_, client_a_);
  std::string other = AddRecording(firm_a_, client_a_);
  ASSERT_TRUE(Save(firm_a_, rec, Sample()).ok());
  ASSERT_TRUE(Save(firm_a_, other, Sample()).ok());
  auto seg = GetStoredTranscript(*store_, firm_a_, rec)->segments[0];
  ASSERT_TRUE(EditSegmentText(*store_, alice_, rec, seg.id, "Bonjour.", 1).ok());
  ASSERT_TRUE(NameSpeakers(*store_, alice_, rec, {{"SPEAKER_1", "A"}}, std::nullopt).ok());

  // Through the recording row's foreign keys...
  Exec("DELETE FROM recordings WHERE id = ?", {rec});
  EXPECT_EQ(Count(*store_, "transcript_segments"), 3);
  EXPECT_EQ(Count(*store_, "transcript_revisions"), 0);
  EXPECT_EQ(Count(*store_, "transcript_speakers"), 0);
  EXPECT_EQ(Count(*store_, "transcripts"), 1);
  EXPECT_EQ((*store_->QueryOne("SELECT COUNT(*) AS n FROM transcript_fts WHERE transcript_fts "
                               "MATCH 'bonjour'"))
                ->Int("n"),
            1);
  // ...or explicitly, keeping the recording.
  ASSERT_TRUE(store_
                  ->Transaction(
                      [&](storage::Connection& c) { return DeleteForRecording(c, firm_a_, other); })
                  .ok());
  EXPECT_EQ(Count(*store_, "transcript_segments"), 0);
  EXPECT_EQ(Count(*store_, "transcripts"), 0);
  EXPECT_EQ(LoadTranscript(*store_, firm_a_, other).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_
                  ->Transaction([&](storage::Connection& c) {
                    return DeleteForRecording(c, firm_a_, other);  // nothing left: still fine
                  })
                  .ok());
}

}  // namespace
}  // namespace crm::domain
