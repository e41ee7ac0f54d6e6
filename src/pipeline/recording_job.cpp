#include "pipeline/recording_job.h"

#include <filesystem>
#include <set>

#include "audio/decoder.h"
#include "audio/sample_source.h"
#include "audio/vad.h"
#include "common/log.h"
#include "common/text.h"
#include "diarization/diarization.h"
#include "diarization/words.h"
#include "pipeline/speaker_matching.h"

namespace crm::pipeline {

using nlohmann::json;

namespace {

// Progress of the whole job, by stage. "decoding" covers the decode and the voice detection.
constexpr double kDecodeTo = 0.10;
constexpr double kTranscribeFrom = 0.10, kTranscribeTo = 0.80;
constexpr double kDiarizeFrom = 0.80, kDiarizeTo = 0.95;
constexpr size_t kMaxPromptChars = 600;

Error Cancelled() { return Error(ErrorCode::kCancelled, "job cancelled"); }

Status SaveCheckpoint(blobs::BlobStore& blobs, const std::string& key, const json& j) {
  blobs::PutOptions po;
  po.overwrite = true;
  return blobs.PutBytes(key, j.dump(), po);
}

Result<std::optional<json>> LoadCheckpoint(blobs::BlobStore& blobs, const std::string& key) {
  CRM_ASSIGN_OR_RETURN(bool exists, blobs.Exists(key));
  if (!exists) return std::optional<json>();
  CRM_ASSIGN_OR_RETURN(int64_t size, blobs.Size(key));
  CRM_ASSIGN_OR_RETURN(std::string text, blobs.ReadRange(key, 0, size));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return std::optional<json>();  // damaged: recompute
  return std::optional<json>(std::move(j));
}

void AddName(std::vector<std::string>& names, std::set<std::string>& seen, std::string name) {
  name = Trim(name);
  if (name.empty() || !IsValidUtf8(name)) return;
  std::string folded = FoldForSearch(name);
  if (!seen.insert(folded).second) return;
  names.push_back(std::move(name));
}

}  // namespace

std::string CheckpointKey(const std::string& firm_id, const std::string& recording_id,
                          const std::string& name) {
  return "work/" + firm_id + "/" + recording_id + "/" + name + ".json";
}

void DeleteCheckpoints(blobs::BlobStore& blobs, const std::string& firm_id,
                       const std::string& recording_id) {
  for (const char* name : {"transcript", "diarization"})
    (void)blobs.Delete(CheckpointKey(firm_id, recording_id, name));
}

json TranscriptToJson(const asr::Transcript& t) {
  json segs = json::array();
  for (const auto& s : t.segments) {
    json words = json::array();
    for (const auto& w : s.words)
      words.push_back({w.start, w.end, w.text, w.probability, w.speaker});
    segs.push_back({{"id", s.id},
                    {"start", s.start},
                    {"end", s.end},
                    {"text", s.text},
                    {"speaker", s.speaker},
                    {"words", words},
                    {"tokens", s.tokens},
                    {"avg_logprob", s.avg_logprob},
                    {"compression_ratio", s.compression_ratio},
                    {"no_speech_prob", s.no_speech_prob},
                    {"temperature", s.temperature}});
  }
  return {{"language", t.language}, {"duration", t.duration}, {"segments", segs}};
}

Result<asr::Transcript> TranscriptFromJson(const json& j) {
  try {
    asr::Transcript t;
    t.language = j.at("language").get<std::string>();
    t.duration = j.at("duration").get<double>();
    for (const auto& js : j.at("segments")) {
      asr::Segment s;
      s.id = js.at("id").get<int>();
      s.start = js.at("start").get<double>();
      s.end = js.at("end").get<double>();
      s.text = js.at("text").get<std::string>();
      s.speaker = js.at("speaker").get<std::string>();
      s.tokens = js.at("tokens").get<std::vector<int>>();
      s.avg_logprob = js.at("avg_logprob").get<float>();
      s.compression_ratio = js.at("compression_ratio").get<float>();
      s.no_speech_prob = js.at("no_speech_prob").get<float>();
      s.temperature = js.at("temperature").get<float>();
      for (const auto& jw : js.at("words"))
        s.words.push_back({jw.at(0).get<double>(), jw.at(1).get<double>(),
                           jw.at(2).get<std::string>(), jw.at(3).get<float>(),
                           jw.at(4).get<std::string>()});
      t.segments.push_back(std::move(s));
    }
    return t;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorrupt, std::string("transcript checkpoint unreadable: ") + e.what());
  }
}

Result<std::string> RecordingPipeline::VocabularyPrompt(const std::string& firm,
                                                        const std::string& id) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  CRM_ASSIGN_OR_RETURN(
      auto rec,
      store_.QueryOne(
          "SELECT r.client_id, r.meeting_id, c.name AS client_name, c.company AS company, "
          "m.participants AS participants, f.settings AS settings FROM recordings r "
          "JOIN clients c ON c.id = r.client_id AND c.firm_id = r.firm_id "
          "JOIN firms f ON f.id = r.firm_id "
          "LEFT JOIN meetings m ON m.id = r.meeting_id AND m.firm_id = r.firm_id "
          "WHERE r.firm_id = ? AND r.id = ?",
          {firm, id}));
  if (!rec) return NotFound("recording not found");
  AddName(names, seen, rec->Text("client_name"));
  AddName(names, seen, rec->Text("company"));
  json participants = json::parse(rec->Text("participants"), nullptr, false);
  if (participants.is_array())
    for (const auto& p : participants) {
      if (p.is_object() && p.contains("name") && p["name"].is_string())
        AddName(names, seen, p["name"].get<std::string>());
      if (p.is_string()) AddName(names, seen, p.get<std::string>());
    }
  CRM_ASSIGN_OR_RETURN(
      auto contacts,
      store_.Query(
          "SELECT name FROM contacts WHERE firm_id = ? AND client_id = ? ORDER BY id LIMIT 20",
          {firm, rec->Text("client_id")}));
  for (auto& c : contacts) AddName(names, seen, c.Text("name"));
  json settings = json::parse(rec->Text("settings"), nullptr, false);
  if (settings.is_object() && settings.contains("vocabulary")) {
    const json& v = settings["vocabulary"];
    if (v.is_array()) {
      for (const auto& term : v)
        if (term.is_string()) AddName(names, seen, term.get<std::string>());
    } else if (v.is_string()) {
      for (auto& term : Split(v.get<std::string>(), ',')) AddName(names, seen, term);
    }
  }
  std::string prompt;
  for (const auto& n : names) {
    std::string next = prompt.empty() ? n : prompt + ", " + n;
    if (next.size() > kMaxPromptChars) break;
    prompt = std::move(next);
  }
  return prompt.empty() ? prompt : prompt + ".";
}

Result<std::string> RecordingPipeline::Enqueue(jobs::JobQueue& queue, const std::string& firm,
                                               const std::string& id, double duration) {
  jobs::EnqueueOptions eo;
  eo.dedupe_key = "transcribe:" + id;
  eo.timeout_seconds = jobs::JobTimeoutSeconds(options_.queue_timeout, duration);
  CRM_ASSIGN_OR_RETURN(std::string job_id,
                       queue.Enqueue(kTranscribeJobKind, firm, {{"recording_id", id}}, eo));
  CRM_ASSIGN_OR_RETURN(int64_t n, store_.Exec("UPDATE recordings SET job_id = ?, updated_at = ? "
                                              "WHERE firm_id = ? AND id = ?",
                                              {job_id, NowIsoUtc(), firm, id}));
  (void)n;
  return job_id;
}

std::string RecordingPipeline::TemporaryDir() const {
  if (!options_.tmp_dir.empty()) return options_.tmp_dir;
  std::error_code ec;
  auto dir = std::filesystem::temp_directory_path(ec);
  return ec ? std::string("/tmp") : dir.string();
}

jobs::Handler RecordingPipeline::Handler() {
  auto swept = audio::RemoveStaleDecodedFiles(TemporaryDir());
  if (!swept.ok()) log::Warn("stale decoded audio not swept", {{"error", swept.error().message}});
  return [this](jobs::JobContext& ctx) { return Run(ctx); };
}

Result<bool> RecordingPipeline::NeedsSamples(const std::string& firm, const std::string& id) {
  if (engine_.reads_samples()) {
    CRM_ASSIGN_OR_RETURN(bool transcribed, blobs_.Exists(CheckpointKey(firm, id, "transcript")));
    if (!transcribed) return true;
  }
  if (!options_.diarization) return false;
  CRM_ASSIGN_OR_RETURN(bool diarized, blobs_.Exists(CheckpointKey(firm, id, "diarization")));
  return !diarized;
}

Result<asr::Transcript> RecordingPipeline::TranscribeStage(jobs::JobContext& ctx,
                                                           const std::string& firm,
                                                           const std::string& id,
                                                           RecordingAudio& audio,
                                                           const std::string& language) {
  std::string key = CheckpointKey(firm, id, "transcript");
  CRM_ASSIGN_OR_RETURN(auto saved, LoadCheckpoint(blobs_, key));
  if (saved) {
    auto t = TranscriptFromJson(*saved);
    if (t.ok()) {
      log::Info("transcription checkpoint reused", {{"recording_id", id}});
      return t;
    }
  }
  TranscriptionRequest req;
  req.language = language;
  CRM_ASSIGN_OR_RETURN(req.prompt, VocabularyPrompt(firm, id));
  PreparedAudio prepared;
  if (engine_.reads_samples()) {
    // Already there, unless a damaged checkpoint was found after the decision to decode.
    const ProgressSink still = ctx.Sink(kTranscribeFrom, kTranscribeFrom, "transcribing");
    CRM_ASSIGN_OR_RETURN(prepared.samples, audio.Samples(still));
    // Without speech regions the engine looks for them itself, or transcribes every window.
    auto speech = audio.Speech(still);
    if (speech.ok()) prepared.speech = *speech;
    if (ctx.Cancelled()) return Cancelled();
  }
  ctx.ReportProgress(kTranscribeFrom, "transcribing");
  // An engine that sends the file itself gets a local copy of the blob; one that reads samples
  // has them already and is given no path.
  std::string path;
  if (!engine_.reads_samples()) {
    CRM_ASSIGN_OR_RETURN(path, audio.MediaPath());
  }
  CRM_ASSIGN_OR_RETURN(auto transcript, engine_.Transcribe(path, prepared, req,
                                                           ctx.Sink(kTranscribeFrom, kTranscribeTo,
                                                                    "transcribing")));
  if (ctx.Cancelled()) return Cancelled();
  CRM_TRY(SaveCheckpoint(blobs_, key, TranscriptToJson(transcript)));
  return transcript;
}

Result<int> RecordingPipeline::SpeakerBound(const std::string& firm, const std::string& id) {
  CRM_ASSIGN_OR_RETURN(
      auto rec, store_.QueryOne("SELECT m.participants AS participants FROM recordings r "
                                "LEFT JOIN meetings m ON m.id = r.meeting_id AND m.firm_id = "
                                "r.firm_id WHERE r.firm_id = ? AND r.id = ?",
                                {firm, id}));
  if (!rec) return 0;
  json participants = json::parse(rec->Text("participants"), nullptr, false);
  if (!participants.is_array()) return 0;
  int people = 0;
  for (const auto& p : participants) {
    people += (p.is_string() && !Trim(p.get<std::string>()).empty()) ||
              (p.is_object() && (p.contains("name") || p.contains("user_id") ||
                                 p.contains("contact_id") || p.contains("email")));
  }
  // Within the diarizer's limit of 255 speakers.
  return people > 0 ? std::min(people + 1, 255) : 0;
}

Status RecordingPipeline::DiarizeStage(jobs::JobContext& ctx, const std::string& firm,
                                       const std::string& id, RecordingAudio& audio,
                                       asr::Transcript* transcript) {
  std::string key = CheckpointKey(firm, id, "diarization");
  std::vector<diarization::Turn> turns;
  CRM_ASSIGN_OR_RETURN(auto saved, LoadCheckpoint(blobs_, key));
  if (saved && saved->is_array()) {
    for (const auto& t : *saved)
      turns.push_back({t.at(0).get<double>(), t.at(1).get<double>(), t.at(2).get<int>()});
  } else {
    ctx.ReportProgress(kDiarizeFrom, "diarizing");
    const ProgressSink still = ctx.Sink(kDiarizeFrom, kDiarizeFrom, "diarizing");
    CRM_ASSIGN_OR_RETURN(const audio::SampleSource* samples, audio.Samples(still));
    CRM_ASSIGN_OR_RETURN(const std::vector<audio::SpeechSegment>* speech, audio.Speech(still));
    if (ctx.Cancelled()) return Cancelled();
    if (!speech->empty()) {
      diarization::DiarizationOptions options;
      options.threads = std::clamp(options_.diarization_threads, 1, 256);
      CRM_ASSIGN_OR_RETURN(int bound, SpeakerBound(firm, id));
      if (bound > 0) options.max_speakers = bound;
      diarization::Diarizer diarizer(options);
      CRM_ASSIGN_OR_RETURN(
          diarization::Diarization diarized,
          diarizer.Run(*samples, *speech, ctx.Sink(kDiarizeFrom, kDiarizeTo, "diarizing")));
      log::Info("recording diarized", {{"recording_id", id},
                                       {"speakers", diarized.num_speakers},
                                       {"max_speakers", options.max_speakers}});
      // Speakers the firm enrolled get their names here; a failure never fails the recording.
      if (auto named = MatchKnownSpeakers(store_, firm, id, diarized); !named.ok())
        log::Warn("known speakers not matched",
                  {{"recording_id", id}, {"error", named.error().message}});
      turns = std::move(diarized.exclusive_turns);
    }
    if (ctx.Cancelled()) return Cancelled();
    json j = json::array();
    for (const auto& t : turns) j.push_back({t.start, t.end, t.speaker});
    CRM_TRY(SaveCheckpoint(blobs_, key, j));
  }
  ctx.ReportProgress(kDiarizeTo, "assigning_speakers");
  if (!turns.empty()) diarization::AssignSpeakers(turns, transcript);
  return OkStatus();
}

Result<jobs::ResultWriter> RecordingPipeline::Run(jobs::JobContext& ctx) {
  const std::string firm = ctx.job().firm_id.value_or("");
  const std::string id = ctx.payload().value("recording_id", "");
  CRM_ASSIGN_OR_RETURN(auto row, store_.QueryOne("SELECT r.blob_key, r.language, f.settings FROM "
                                                 "recordings r JOIN firms f ON f.id = r.firm_id "
                                                 "WHERE r.firm_id = ? AND r.id = ?",
                                                 {firm, id}));
  if (!row) {
    // Deleted since it was queued: nothing left to do.
    log::Info("recording gone before its job ran", {{"recording_id", id}});
    return jobs::ResultWriter();
  }
  ctx.ReportProgress(0.0, "decoding");
  // Read through the blob store (an AVIOContext over BlobReader::ReadAt), wherever it keeps it.
  CRM_ASSIGN_OR_RETURN(auto media, OpenBlobSource(blobs_, row->Text("blob_key")));
  if (ctx.Cancelled()) return Cancelled();

  std::string language = row->Text("language");
  if (language.empty()) {
    json settings = json::parse(row->Text("settings"), nullptr, false);
    if (settings.is_object() && settings.contains("language") && settings["language"].is_string())
      language = settings["language"].get<std::string>();
  }
  if (language.empty()) language = options_.default_language;

  // Decoded once for every stage that reads samples; released when the job ends, however.
  RecordingAudio audio(media, TemporaryDir(), {options_.vad, options_.vad_model});
  CRM_ASSIGN_OR_RETURN(bool needs_samples, NeedsSamples(firm, id));
  if (needs_samples) {
    CRM_TRY(audio.Samples(ctx.Sink(0.0, kDecodeTo * 0.7, "decoding")));
    if (ctx.Cancelled()) return Cancelled();
    // A detector failure is not the job's: the stages go on without speech regions.
    auto speech = audio.Speech(ctx.Sink(kDecodeTo * 0.7, kDecodeTo, "decoding"));
    if (!speech.ok()) {
      if (speech.error().code == ErrorCode::kCancelled) return Cancelled();
      log::Warn("voice activity detection failed",
                {{"recording_id", id}, {"error", speech.error().message}});
    }
  }

  CRM_ASSIGN_OR_RETURN(auto transcript, TranscribeStage(ctx, firm, id, audio, language));
  if (options_.diarization) {
    Status st = DiarizeStage(ctx, firm, id, audio, &transcript);
    if (!st.ok()) {
      if (st.error().code == ErrorCode::kCancelled) return st.take_error();
      // The transcript is worth more than its speakers: keep it without labels.
      log::Warn("diarization failed; the transcript is kept without speakers",
                {{"recording_id", id}, {"error", st.error().message}});
    }
  }
  ctx.ReportProgress(0.97, "indexing");
  TranscriptWriter writer = writer_;
  blobs::BlobStore* blobs = &blobs_;
  return jobs::ResultWriter([writer, blobs, firm, id,
                             transcript = std::move(transcript)](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(
        auto still,
        c.QueryOne("SELECT id FROM recordings WHERE firm_id = ? AND id = ?", {firm, id}));
    if (!still) return OkStatus();  // deleted while it ran
    if (writer) CRM_TRY(writer(c, firm, id, transcript));
    CRM_TRY(
        c.Exec("UPDATE recordings SET language = COALESCE(language, ?), updated_at = ? "
               "WHERE firm_id = ? AND id = ?",
               {transcript.language, NowIsoUtc(), firm, id}));
    DeleteCheckpoints(*blobs, firm, id);
    return OkStatus();
  });
}

}  // namespace crm::pipeline
