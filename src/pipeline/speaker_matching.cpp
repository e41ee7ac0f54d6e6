#include "pipeline/speaker_matching.h"

#include <map>

#include "audio/decoder.h"
#include "pipeline/recording_audio.h"

namespace crm::pipeline {

std::vector<domain::SpeakerVoice> SpeakerVoices(const diarization::Diarization& d) {
  std::map<int, double> seconds;
  for (const auto& t : d.turns) seconds[t.speaker] += std::max(0.0, t.end - t.start);
  std::vector<domain::SpeakerVoice> out;
  for (size_t i = 0; i < d.voiceprints.size(); ++i) {
    if (d.voiceprints[i].empty()) continue;
    int speaker = static_cast<int>(i);
    out.push_back({diarization::SpeakerLabel(speaker), d.voiceprints[i], seconds[speaker]});
  }
  return out;
}

Result<std::vector<domain::AutomaticName>> MatchKnownSpeakers(
    storage::Connection& c, const std::string& firm_id, const std::string& recording_id,
    const diarization::Diarization& d, const domain::VoiceprintOptions& options) {
  CRM_TRY(domain::StoreRecordingSpeakers(c, firm_id, recording_id, SpeakerVoices(d)));
  return domain::NameKnownSpeakers(c, firm_id, recording_id, options);
}

Result<std::vector<domain::AutomaticName>> MatchKnownSpeakers(
    storage::Store& store, const std::string& firm_id, const std::string& recording_id,
    const diarization::Diarization& d, const domain::VoiceprintOptions& options) {
  std::vector<domain::AutomaticName> names;
  CRM_TRY(store.Transaction([&](storage::Connection& c) -> Status {
    CRM_ASSIGN_OR_RETURN(names, MatchKnownSpeakers(c, firm_id, recording_id, d, options));
    return OkStatus();
  }));
  return names;
}

Result<std::unique_ptr<diarization::VoiceprintBuilder>> DecodeForVoiceprints(
    storage::Store& store, blobs::BlobStore& blobs, const std::string& firm_id,
    const std::string& recording_id) {
  CRM_ASSIGN_OR_RETURN(auto row, store.QueryOne("SELECT blob_key FROM recordings WHERE firm_id = "
                                                "? AND id = ?",
                                                {firm_id, recording_id}));
  if (!row) return NotFound("Enregistrement introuvable. / Recording not found.");
  CRM_ASSIGN_OR_RETURN(auto media, OpenBlobSource(blobs, row->Text("blob_key")));
  CRM_ASSIGN_OR_RETURN(auto stream, audio::PcmStream::Open(std::move(media)));
  auto builder = std::make_unique<diarization::VoiceprintBuilder>();
  std::vector<float> buffer(audio::kSampleRate * 4);
  for (;;) {
    CRM_ASSIGN_OR_RETURN(size_t n, stream->Read(buffer.data(), buffer.size()));
    if (n == 0) break;
    CRM_TRY(builder->Add(buffer.data(), n));
  }
  return builder;
}

Result<diarization::WeightedVoiceprint> VoiceprintOfRecordingRanges(
    storage::Store& store, blobs::BlobStore& blobs, const std::string& firm_id,
    const std::string& recording_id, const std::vector<diarization::TimeRange>& ranges,
    double min_seconds) {
  CRM_ASSIGN_OR_RETURN(auto builder, DecodeForVoiceprints(store, blobs, firm_id, recording_id));
  double seconds = 0;
  CRM_ASSIGN_OR_RETURN(auto v, builder->Finish(ranges, min_seconds, &seconds));
  return diarization::WeightedVoiceprint{std::move(v), seconds};
}

}  // namespace crm::pipeline
