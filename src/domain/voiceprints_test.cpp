// Voiceprints in the domain, on a real SQLite database with every migration: enrolment from a
// recording's stored speakers, automatic names with their confidence (never over a confirmed
// name), suggestions, renames and deletions following automatic names, similar speakers, names
// applied to other recordings, firm scoping of every id, and the speech minimums. The vectors are
// synthetic here (the integration test uses real audio): what matters is their distance.
#include "domain/voiceprints.h"

#include <gtest/gtest.h>

#include "domain/crm.h"
#include "domain/records.h"
#include "domain/transcripts_test_fixture.h"

namespace crm::domain {
namespace {

using nlohmann::json;

// A voice: 19 relative means (a direction) and 19 spreads. Same `who` → same direction.
std::vector<float> Voice(int who, float jitter = 0) {
  std::vector<float> v(38, 1.0f);
  for (int j = 0; j < 19; ++j) v[j] = (j == who ? 3.0f : 0.1f) + jitter * static_cast<float>(j % 3);
  return v;
}

class VoiceprintsTest : public TranscriptsFixture {
 protected:
  void SetUp() override {
    TranscriptsFixture::SetUp();
    admin_ = alice_;
    admin_.role = "admin";
  }
  // A recording of firm A with Sample()'s transcript and these speaker voices.
  std::string Recording(const std::vector<SpeakerVoice>& voices, const std::string& meeting = {}) {
    std::string id = AddRecording(firm_a_, client_a_, meeting);
    EXPECT_TRUE(Save(firm_a_, id, Sample()).ok());
    auto st = store_->Transaction(
        [&](storage::Connection& c) { return StoreRecordingSpeakers(c, firm_a_, id, voices); });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return id;
  }
  Result<std::vector<AutomaticName>> Match(const std::string& recording) {
    std::vector<AutomaticName> out;
    CRM_TRY(store_->Transaction([&](storage::Connection& c) -> Status {
      CRM_ASSIGN_OR_RETURN(out, NameKnownSpeakers(c, firm_a_, recording));
      return OkStatus();
    }));
    return out;
  }
  Voiceprint Enrol(const std::string& name, const std::vector<SourceRequest>& sources) {
    auto v = EnrolVoiceprint(*store_, admin_, {name, {}, {}}, sources, nullptr);
    EXPECT_TRUE(v.ok()) << v.error().message;
    return v.ok() ? *v : Voiceprint{};
  }
  int64_t TranscriptVersion(const std::string& recording) {
    return GetStoredTranscript(*store_, firm_a_, recording)->version;
  }
  Principal admin_;
};

TEST_F(VoiceprintsTest, EnrolledSpeakerIsNamedAutomaticallyInANewRecordingWithItsConfidence) {
  std::string first = Recording({{"SPEAKER_1", Voice(0), 12.0}, {"SPEAKER_2", Voice(1), 8.0}});
  Voiceprint dupont = Enrol("  Maître Dupont ", {{first, "SPEAKER_1", {}}});
  EXPECT_EQ(dupont.name, "Maître Dupont");
  EXPECT_DOUBLE_EQ(dupont.seconds_of_speech, 12.0);
  ASSERT_EQ(dupont.sources.size(), 1u);
  EXPECT_EQ(dupont.sources[0].recording_id, first);
  EXPECT_EQ(dupont.sources[0].label, "SPEAKER_1");

  // Labels swapped in the new recording; a third voice nobody enrolled stays unnamed.
  std::string second = Recording({{"SPEAKER_1", Voice(1, 0.05f), 9.0},
                                  {"SPEAKER_2", Voice(0, 0.05f), 7.0},
                                  {"SPEAKER_3", Voice(5), 6.0}});
  auto names = Match(second);
  ASSERT_TRUE(names.ok()) << names.error().message;
  ASSERT_EQ(names->size(), 1u);
  EXPECT_EQ((*names)[0].label, "SPEAKER_2");
  EXPECT_EQ((*names)[0].name, "Maître Dupont");
  EXPECT_EQ((*names)[0].voiceprint_id, dupont.id);
  EXPECT_GE((*names)[0].confidence, 0.7);
  EXPECT_EQ(TranscriptVersion(second), 2);
  // The transcript reads the name where the label was.
  auto t = GetStoredTranscript(*store_, firm_a_, second);
  EXPECT_EQ(t->speaker_names.at("SPEAKER_2"), "Maître Dupont");

  auto speakers = ListRecordingSpeakers(*store_, firm_a_, second);
  ASSERT_TRUE(speakers.ok());
  EXPECT_EQ(speakers->version, 2);
  ASSERT_EQ(speakers->speakers.size(), 3u);  // two in the transcript, then the diarized third
  const RecordingSpeaker& s2 = speakers->speakers[1];
  EXPECT_EQ(s2.label, "SPEAKER_2");
  EXPECT_EQ(s2.origin, "automatic");
  EXPECT_NEAR(*s2.confidence, (*names)[0].confidence, 1e-9);
  EXPECT_EQ(s2.voiceprint_id, dupont.id);
  ASSERT_EQ(s2.voiceprints.size(), 1u);
  EXPECT_EQ(s2.voiceprints[0].voiceprint_id, dupont.id);
  const RecordingSpeaker& s1 = speakers->speakers[0];
  EXPECT_EQ(s1.name, "");
  EXPECT_TRUE(s1.voiceprints.empty());  // an unknown voice gets no voiceprint suggestion
  EXPECT_EQ(speakers->speakers[2].label, "SPEAKER_3");
  EXPECT_TRUE(speakers->speakers[2].has_voiceprint);

  // Matching again changes nothing, not even the version.
  ASSERT_TRUE(Match(second).ok());
  EXPECT_EQ(TranscriptVersion(second), 2);
}

TEST_F(VoiceprintsTest, AutomaticNamesNeverReplaceConfirmedOnesNorNameAConfirmedPersonTwice) {
  std::string first = Recording({{"SPEAKER_1", Voice(0), 12.0}});
  Enrol("Maître Dupont", {{first, "SPEAKER_1", {}}});
  std::string second = Recording({{"SPEAKER_1", Voice(0), 9.0}, {"SPEAKER_2", Voice(0, 0.1f), 9}});
  // A user named SPEAKER_1 someone else, and SPEAKER_2 "maitre dupont" (the same person).
  ASSERT_TRUE(NameSpeakers(*store_, alice_, second, {{"SPEAKER_1", "Mme Martin"}}, {}).ok());
  auto names = Match(second);
  ASSERT_TRUE(names.ok());
  ASSERT_EQ(names->size(), 1u);
  EXPECT_EQ((*names)[0].label, "SPEAKER_2");
  auto t = GetStoredTranscript(*store_, firm_a_, second);
  EXPECT_EQ(t->speaker_names.at("SPEAKER_1"), "Mme Martin");

  ASSERT_TRUE(NameSpeakers(*store_, alice_, second, {{"SPEAKER_2", "Maître DUPONT"}}, {}).ok());
  ASSERT_TRUE(Match(second).ok());
  auto speakers = ListRecordingSpeakers(*store_, firm_a_, second);
  EXPECT_EQ(speakers->speakers[1].origin, "confirmed");  // the rename confirmed it
  EXPECT_FALSE(speakers->speakers[1].confidence.has_value());
  EXPECT_TRUE(speakers->speakers[1].voiceprints.empty());  // no suggestions once confirmed
  EXPECT_EQ(speakers->speakers[0].name, "Mme Martin");

  // A speaker with too little speech is never named automatically.
  std::string brief = Recording({{"SPEAKER_1", Voice(0), 1.0}});
  EXPECT_TRUE(Match(brief)->empty());
}

TEST_F(VoiceprintsTest, RenameFollowsAndDeleteClearsAutomaticNamesButKeepsConfirmedOnes) {
  std::string first = Recording({{"SPEAKER_1", Voice(0), 12.0}});
  Voiceprint v = Enrol("Maître Dupont", {{first, "SPEAKER_1", {}}});
  std::string automatic = Recording({{"SPEAKER_1", Voice(0), 9.0}});
  std::string confirmed = Recording({{"SPEAKER_1", Voice(0), 9.0}});
  ASSERT_EQ(Match(automatic)->size(), 1u);
  ASSERT_TRUE(ApplySpeakerName(*store_, alice_, first, "SPEAKER_1", "Maître Dupont",
                               {{confirmed, "SPEAKER_1", {}}})
                  .ok());

  auto renamed = UpdateVoiceprint(*store_, admin_, v.id, {"Me Jeanne Dupont", {}, {}}, 1);
  ASSERT_TRUE(renamed.ok()) << renamed.error().message;
  EXPECT_EQ(renamed->version, 2);
  EXPECT_EQ(renamed->automatic_names, 1);
  EXPECT_EQ(GetStoredTranscript(*store_, firm_a_, automatic)->speaker_names.at("SPEAKER_1"),
            "Me Jeanne Dupont");
  EXPECT_EQ(GetStoredTranscript(*store_, firm_a_, confirmed)->speaker_names.at("SPEAKER_1"),
            "Maître Dupont");
  auto stale = UpdateVoiceprint(*store_, admin_, v.id, {"X", {}, {}}, 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);

  int64_t before = TranscriptVersion(automatic);
  ASSERT_TRUE(DeleteVoiceprint(*store_, admin_, v.id).ok());
  EXPECT_EQ(GetVoiceprint(*store_, firm_a_, v.id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(GetStoredTranscript(*store_, firm_a_, automatic)->speaker_names.empty());
  EXPECT_EQ(TranscriptVersion(automatic), before + 1);
  EXPECT_EQ(GetStoredTranscript(*store_, firm_a_, confirmed)->speaker_names.at("SPEAKER_1"),
            "Maître Dupont");
  auto audit = store_->Query(
      "SELECT action, details FROM audit_log WHERE object_id = ? ORDER BY id", {v.id});
  ASSERT_EQ(audit->size(), 3u);
  EXPECT_EQ((*audit)[0].Text("action"), "voiceprint.enrol");
  EXPECT_EQ((*audit)[2].Text("action"), "voiceprint.delete");
  EXPECT_EQ(json::parse((*audit)[2].Text("details"))["cleared_automatic_names"], 1);
  EXPECT_EQ(DeleteVoiceprint(*store_, admin_, v.id).error().code, ErrorCode::kNotFound);

  // A contact's voiceprint goes with the contact (personal data), its automatic names too.
  std::string contact = NewId();
  Exec(
      "INSERT INTO contacts (id, firm_id, client_id, name, created_at, updated_at) VALUES (?, ?, "
      "?, 'Paul Martin', ?, ?)",
      {contact, firm_a_, client_a_, NowIsoUtc(), NowIsoUtc()});
  auto linked = EnrolVoiceprint(*store_, admin_, {"Paul Martin", {}, contact},
                                {{first, "SPEAKER_1", {}}}, nullptr);
  ASSERT_TRUE(linked.ok()) << linked.error().message;
  ASSERT_EQ(Match(automatic)->size(), 1u);
  before = TranscriptVersion(automatic);
  RecordStore records(*store_);
  ASSERT_TRUE(records.Delete(firm_a_, ContactSpec(), contact, std::nullopt).ok());
  EXPECT_EQ(GetVoiceprint(*store_, firm_a_, linked->id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(GetStoredTranscript(*store_, firm_a_, automatic)->speaker_names.empty());
  EXPECT_EQ(TranscriptVersion(automatic), before + 1);

  // A firm removed takes its voiceprints and speakers' voices with it.
  Enrol("Maître Dupont", {{first, "SPEAKER_1", {}}});
  ASSERT_EQ(Match(automatic)->size(), 1u);
  Exec("DELETE FROM firms WHERE id = ?", {firm_a_});
  for (const char* table :
       {"voiceprints", "voiceprint_sources", "recording_speakers", "transcript_speakers"})
    EXPECT_EQ((*store_->QueryOne(std::string("SELECT COUNT(*) AS n FROM ") + table))->Int("n"), 0)
        << table;
}

// The names a contact's voiceprint gave are cleared by the domain in the deleting transaction,
// whichever record's deletion takes the voiceprint with it: no trigger does it (InnoDB fires none
// on cascades).
TEST_F(VoiceprintsTest, DeletingAClientClearsTheNamesItsContactsVoiceprintsGave) {
  std::string first = Recording({{"SPEAKER_1", Voice(0), 12.0}});
  std::string other_client = NewId();
  Exec("INSERT INTO clients (id, firm_id, name, created_at, updated_at) VALUES (?, ?, 'Autre', ?, ?)",
       {other_client, firm_a_, NowIsoUtc(), NowIsoUtc()});
  std::string contact = NewId();
  Exec(
      "INSERT INTO contacts (id, firm_id, client_id, name, created_at, updated_at) VALUES (?, ?, "
      "?, 'Paul Martin', ?, ?)",
      {contact, firm_a_, other_client, NowIsoUtc(), NowIsoUtc()});
  auto linked = EnrolVoiceprint(*store_, admin_, {"Paul Martin", {}, contact},
                                {{first, "SPEAKER_1", {}}}, nullptr);
  ASSERT_TRUE(linked.ok()) << linked.error().message;
  std::string named = Recording({{"SPEAKER_1", Voice(0), 9.0}});
  std::string confirmed = Recording({{"SPEAKER_1", Voice(0), 9.0}});
  ASSERT_EQ(Match(named)->size(), 1u);
  ASSERT_TRUE(ApplySpeakerName(*store_, alice_, first, "SPEAKER_1", "Paul Martin",
                               {{confirmed, "SPEAKER_1", {}}})
                  .ok());
  int64_t before = TranscriptVersion(named);
  RecordStore records(*store_);
  ASSERT_TRUE(records.Delete(firm_a_, ClientSpec(), other_client, std::nullopt).ok());
  EXPECT_EQ(GetVoiceprint(*store_, firm_a_, linked->id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(GetStoredTranscript(*store_, firm_a_, named)->speaker_names.empty());
  EXPECT_EQ(TranscriptVersion(named), before + 1);
  // A confirmed name stays, unlinked from the voiceprint that is gone.
  EXPECT_EQ(GetStoredTranscript(*store_, firm_a_, confirmed)->speaker_names.at("SPEAKER_1"),
            "Paul Martin");
  EXPECT_EQ((*store_->QueryOne("SELECT COUNT(*) AS n FROM transcript_speakers WHERE "
                               "voiceprint_id = ?",
                               {linked->id}))
                ->Int("n"),
            0);
}

TEST_F(VoiceprintsTest, MoreSourcesAreAveragedBySecondsOfSpeech) {
  std::string a = Recording({{"SPEAKER_1", Voice(0), 6.0}});
  std::string b = Recording({{"SPEAKER_2", Voice(0, 0.2f), 18.0}});
  Voiceprint v = Enrol("Maître Dupont", {{a, "SPEAKER_1", {}}});
  auto more = AddVoiceprintSources(*store_, admin_, v.id, {{b, "SPEAKER_2", {}}}, nullptr, 1);
  ASSERT_TRUE(more.ok()) << more.error().message;
  EXPECT_DOUBLE_EQ(more->seconds_of_speech, 24.0);
  EXPECT_EQ(more->source_count, 2);
  EXPECT_EQ(more->version, 2);
  auto row = store_->QueryOne("SELECT voiceprint FROM voiceprints WHERE id = ?", {v.id});
  auto stored = diarization::ParseVoiceprint((*row)->Text("voiceprint"));
  auto expected = diarization::AverageVoiceprints({{Voice(0), 6.0}, {Voice(0, 0.2f), 18.0}});
  ASSERT_EQ(stored->size(), expected->size());
  for (size_t i = 0; i < stored->size(); ++i) EXPECT_NEAR((*stored)[i], (*expected)[i], 1e-5);
  // The same source twice would count its speech twice.
  auto again = AddVoiceprintSources(*store_, admin_, v.id, {{b, "SPEAKER_2", {}}}, nullptr, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().details["sources[0]"], "duplicate");
  std::string c = Recording({{"SPEAKER_1", Voice(0), 5.0}});
  EXPECT_EQ(
      AddVoiceprintSources(*store_, admin_, v.id, {{c, "SPEAKER_1", {}}}, nullptr, 1).error().code,
      ErrorCode::kConflict);
}

TEST_F(VoiceprintsTest, TooLittleSpeechAndBadSourcesAreRefusedWithReasons) {
  std::string a = Recording({{"SPEAKER_1", Voice(0), 3.0}, {"SPEAKER_2", Voice(1), 0.5}});
  auto short_total =
      EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, {{a, "SPEAKER_1", {}}}, nullptr);
  ASSERT_FALSE(short_total.ok());
  EXPECT_EQ(short_total.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(short_total.error().message.find("Pas assez de parole"), std::string::npos);
  EXPECT_EQ(short_total.error().details["min_seconds"], 4.0);
  auto short_source =
      EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, {{a, "SPEAKER_2", {}}}, nullptr);
  EXPECT_EQ(short_source.error().details["sources[0]"], "too_short");
  auto missing = EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, {{a, "SPEAKER_9", {}}}, nullptr);
  EXPECT_EQ(missing.error().details["sources[0]"], "no_voiceprint");
  auto shapes = EnrolVoiceprint(
      *store_, admin_, {"", {}, {}},
      {{a, "", {}}, {a, "SPEAKER_1", {{1, 2}}}, {a, "", {{3, 2}}}, {"", "SPEAKER_1", {}}}, nullptr);
  ASSERT_FALSE(shapes.ok());
  EXPECT_EQ(shapes.error().details, json({{"name", "required"},
                                          {"sources[0]", "label_or_ranges"},
                                          {"sources[1]", "label_or_ranges"},
                                          {"sources[2]", "invalid_range"},
                                          {"sources[3]", "recording_required"}}));
  EXPECT_EQ(EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, {}, nullptr).error().details["sources"],
            "required");
  // Time ranges go to the caller's audio function; its "too little" becomes too_short.
  RangeVoiceprintFn ranges = [&](const std::string& rec, const auto& r) {
    EXPECT_EQ(rec, a);
    EXPECT_EQ(r.size(), 1u);
    return Result<diarization::WeightedVoiceprint>(InvalidArgument("too little"));
  };
  auto by_range = EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, {{a, "", {{0, 0.5}}}}, ranges);
  EXPECT_EQ(by_range.error().details["sources[0]"], "too_short");
  ranges = [](const std::string&, const auto&) {
    return Result<diarization::WeightedVoiceprint>(diarization::WeightedVoiceprint{Voice(2), 5.5});
  };
  auto ok = EnrolVoiceprint(*store_, admin_, {"Y", {}, {}}, {{a, "", {{0, 3}, {4, 6.5}}}}, ranges);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->sources.size(), 1u);
  EXPECT_EQ(ok->sources[0].ranges.size(), 2u);
  EXPECT_DOUBLE_EQ(ok->sources[0].ranges[1].end, 6.5);
}

TEST_F(VoiceprintsTest, ListsInRequestsAreBounded) {
  std::string a = Recording({{"SPEAKER_1", Voice(0), 12.0}});
  std::vector<SourceRequest> sources(21, SourceRequest{a, "", {{0, 2}}});
  auto many = EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, sources, nullptr);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.error().details["sources"], "too_many");
  std::vector<SourceRequest> ranges = {{a, "", std::vector<diarization::TimeRange>(51, {0, 1})}};
  EXPECT_EQ(EnrolVoiceprint(*store_, admin_, {"X", {}, {}}, ranges, nullptr)
                .error()
                .details["sources[0]"],
            "too_many_ranges");
  std::vector<ApplyTarget> targets;
  for (int i = 0; i < 101; ++i) targets.push_back({a, "SPEAKER_" + std::to_string(i), {}});
  auto apply = ApplySpeakerName(*store_, alice_, a, "SPEAKER_1", "X", targets);
  ASSERT_FALSE(apply.ok());
  EXPECT_EQ(apply.error().details["targets"], "too_many");
  EXPECT_EQ(ApplySpeakerName(*store_, alice_, a, "SPEAKER_1", "X", {}).error().details["targets"],
            "required");
  // Pages: limit and cursor.
  for (int i = 0; i < 3; ++i) Enrol("Voix " + std::to_string(i), {{a, "SPEAKER_1", {}}});
  auto page = ListVoiceprints(*store_, firm_a_, 2, "");
  ASSERT_EQ(page->first.size(), 2u);
  ASSERT_TRUE(page->second.has_value());
  auto rest = ListVoiceprints(*store_, firm_a_, 2, *page->second);
  ASSERT_EQ(rest->first.size(), 1u);
  EXPECT_FALSE(rest->second.has_value());
  EXPECT_EQ(rest->first[0].name, "Voix 2");
}

TEST_F(VoiceprintsTest, AnotherFirmsIdsAreNotFoundWhereverTheyAppear) {
  std::string mine = Recording({{"SPEAKER_1", Voice(0), 12.0}});
  std::string theirs = AddRecording(firm_b_, client_b_);
  std::string their_contact = NewId();
  Exec(
      "INSERT INTO contacts (id, firm_id, client_id, name, created_at, updated_at) VALUES (?, ?, "
      "?, 'B', ?, ?)",
      {their_contact, firm_b_, client_b_, NowIsoUtc(), NowIsoUtc()});
  // Foreign ids win over every other problem of the request.
  auto source =
      EnrolVoiceprint(*store_, admin_, {"", {}, {}}, {{theirs, "SPEAKER_1", {}}}, nullptr);
  EXPECT_EQ(source.error().code, ErrorCode::kNotFound);
  auto link = EnrolVoiceprint(*store_, admin_, {"X", {}, their_contact}, {{mine, "SPEAKER_1", {}}},
                              nullptr);
  EXPECT_EQ(link.error().code, ErrorCode::kNotFound);
  Voiceprint v = Enrol("Maître Dupont", {{mine, "SPEAKER_1", {}}});
  Principal other = admin_;
  other.firm_id = firm_b_;
  EXPECT_EQ(GetVoiceprint(*store_, firm_b_, v.id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(UpdateVoiceprint(*store_, other, v.id, {"X", {}, {}}, {}).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(DeleteVoiceprint(*store_, other, v.id).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(ListVoiceprints(*store_, firm_b_, 50, "")->first.empty());
  EXPECT_EQ(ListRecordingSpeakers(*store_, firm_b_, mine).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(FindSimilarSpeakers(*store_, firm_b_, mine, "SPEAKER_1", 50, {}).error().code,
            ErrorCode::kNotFound);
  auto apply =
      ApplySpeakerName(*store_, alice_, mine, "SPEAKER_1", "X", {{theirs, "SPEAKER_1", 99}});
  EXPECT_EQ(apply.error().code, ErrorCode::kNotFound);
  // B's recordings are never matched against A's voiceprints.
  auto st = store_->Transaction([&](storage::Connection& c) -> Status {
    CRM_TRY(StoreRecordingSpeakers(c, firm_b_, theirs, {{"SPEAKER_1", Voice(0), 9.0}}));
    CRM_ASSIGN_OR_RETURN(auto names, NameKnownSpeakers(c, firm_b_, theirs));
    EXPECT_TRUE(names.empty());
    return OkStatus();
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_TRUE(FindSimilarSpeakers(*store_, firm_a_, mine, "SPEAKER_1", 50, 0.0)->empty());
}

TEST_F(VoiceprintsTest, SimilarSpeakersAndAppliedNamesAcrossTheFirmsRecordings) {
  std::string source = Recording({{"SPEAKER_1", Voice(0), 12.0}, {"SPEAKER_2", Voice(1), 8.0}});
  std::string same = Recording({{"SPEAKER_1", Voice(1), 8.0}, {"SPEAKER_2", Voice(0, 0.05f), 9}});
  std::string other = Recording({{"SPEAKER_1", Voice(4), 8.0}});
  ASSERT_TRUE(NameSpeakers(*store_, alice_, source, {{"SPEAKER_1", "Maître Dupont"}}, {}).ok());
  auto similar = FindSimilarSpeakers(*store_, firm_a_, source, "SPEAKER_1", 50, {});
  ASSERT_TRUE(similar.ok()) << similar.error().message;
  ASSERT_EQ(similar->size(), 1u);
  EXPECT_EQ((*similar)[0].recording_id, same);
  EXPECT_EQ((*similar)[0].label, "SPEAKER_2");
  EXPECT_EQ((*similar)[0].client_name, "Hélène Martin");
  EXPECT_EQ((*similar)[0].name, "");
  EXPECT_GE((*similar)[0].confidence, 0.9);
  EXPECT_EQ(FindSimilarSpeakers(*store_, firm_a_, source, "SPEAKER_9", 50, {}).error().code,
            ErrorCode::kNotFound);

  // Stale versions apply nothing; unknown labels are named; then the name lands, confirmed.
  auto stale = ApplySpeakerName(*store_, alice_, source, "SPEAKER_1", "",
                                {{same, "SPEAKER_2", 7}, {other, "SPEAKER_1", {}}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::kConflict);
  EXPECT_EQ(stale.error().details["targets[0]"]["current_version"], 1);
  EXPECT_TRUE(GetStoredTranscript(*store_, firm_a_, other)->speaker_names.empty());
  auto unknown =
      ApplySpeakerName(*store_, alice_, source, "SPEAKER_1", "", {{same, "SPEAKER_7", {}}});
  EXPECT_EQ(unknown.error().details["targets[0]"], "unknown_speaker");
  auto unnamed =
      ApplySpeakerName(*store_, alice_, source, "SPEAKER_2", "", {{same, "SPEAKER_1", {}}});
  EXPECT_EQ(unnamed.error().details["name"], "required");
  auto applied =
      ApplySpeakerName(*store_, alice_, source, "SPEAKER_1", "", {{same, "SPEAKER_2", 1}});
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ((*applied)[0].version, 2);
  auto speakers = ListRecordingSpeakers(*store_, firm_a_, same);
  EXPECT_EQ(speakers->speakers[1].name, "Maître Dupont");
  EXPECT_EQ(speakers->speakers[1].origin, "confirmed");
  EXPECT_EQ(FindSimilarSpeakers(*store_, firm_a_, source, "SPEAKER_1", 50, {})->at(0).origin,
            "confirmed");
  auto audit = store_->Query("SELECT details FROM audit_log WHERE action = 'speakers.apply'");
  ASSERT_EQ(audit->size(), 1u);
  EXPECT_EQ(json::parse((*audit)[0].Text("details"))["targets"][0]["recording_id"], same);
}

TEST_F(VoiceprintsTest, UnassignedMeetingParticipantsAreSuggested) {
  std::string user = NewId(), contact = NewId();
  Exec(
      "INSERT INTO users (id, firm_id, email, email_folded, name, role, created_at, updated_at) "
      "VALUES (?, ?, 'dupont@a.fr', 'dupont@a.fr', 'Maître Dupont', 'owner', ?, ?)",
      {user, firm_a_, NowIsoUtc(), NowIsoUtc()});
  Exec(
      "INSERT INTO contacts (id, firm_id, client_id, name, email, created_at, updated_at) VALUES "
      "(?, ?, ?, 'Hélène Martin', 'helene@martin.fr', ?, ?)",
      {contact, firm_a_, client_a_, NowIsoUtc(), NowIsoUtc()});
  json participants = json::array({{{"user_id", user}},
                                   {{"contact_id", contact}},
                                   {{"name", "Me Kowalczyk"}, {"email", "k@x.fr"}},
                                   {{"contact_id", "not-a-contact-of-this-firm"}}});
  Exec("UPDATE meetings SET participants = ? WHERE id = ?", {participants.dump(), meeting_a_});
  std::string rec = Recording({{"SPEAKER_1", Voice(0), 12.0}}, meeting_a_);
  ASSERT_TRUE(NameSpeakers(*store_, alice_, rec, {{"SPEAKER_2", "helene martin"}}, {}).ok());
  auto speakers = ListRecordingSpeakers(*store_, firm_a_, rec);
  ASSERT_TRUE(speakers.ok()) << speakers.error().message;
  const auto& p = speakers->speakers[0].participants;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].kind, "user");
  EXPECT_EQ(p[0].id, user);
  EXPECT_EQ(p[0].name, "Maître Dupont");
  EXPECT_EQ(p[1].kind, "guest");
  EXPECT_EQ(p[1].name, "Me Kowalczyk");
  EXPECT_TRUE(speakers->speakers[1].participants.empty());  // confirmed
}

}  // namespace
}  // namespace crm::domain
