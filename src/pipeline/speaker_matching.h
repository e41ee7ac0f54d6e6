// Speakers known to the firm, on the pipeline's side: after a recording is diarized, keep each
// found speaker's voiceprint and name the firm's enrolled speakers automatically; for enrolment
// from time ranges, compute a voiceprint from a recording's audio.
//
// MatchKnownSpeakers is called once per diarization, right after Diarizer::Run (a retried job
// whose diarization checkpoint is reused does not call it again: the rows it wrote stay). Its
// writes are independent of the transcript: speaker names live per recording and label, and
// SaveEngineTranscript keeps them. A failure here never fails the recording (the caller logs it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "blobs/blob_store.h"
#include "common/result.h"
#include "diarization/diarization.h"
#include "diarization/voiceprint.h"
#include "domain/voiceprints.h"
#include "storage/store.h"

namespace crm::pipeline {

// Stores the recording's speaker voiceprints (Diarization::voiceprints, labelled as in the
// transcript, with each speaker's seconds of speech from its turns) and names the firm's known
// speakers among them (domain::NameKnownSpeakers), in one transaction. Returns the automatic
// names set. kNotFound when the recording is gone (deleted while it was processed).
Result<std::vector<domain::AutomaticName>> MatchKnownSpeakers(
    storage::Store& store, const std::string& firm_id, const std::string& recording_id,
    const diarization::Diarization& diarization, const domain::VoiceprintOptions& options = {});
// The same inside the caller's transaction.
Result<std::vector<domain::AutomaticName>> MatchKnownSpeakers(
    storage::Connection& c, const std::string& firm_id, const std::string& recording_id,
    const diarization::Diarization& diarization, const domain::VoiceprintOptions& options = {});

// The voiceprints of a diarization as the domain stores them: "SPEAKER_n" labels and seconds.
std::vector<domain::SpeakerVoice> SpeakerVoices(const diarization::Diarization& diarization);

// A firm's recording (its file in the blob store) decoded once, in pieces, into a builder that
// answers the voiceprint of any ranges of it. kNotFound for a recording of another firm;
// kUndecodable / kIo from the decoder.
Result<std::unique_ptr<diarization::VoiceprintBuilder>> DecodeForVoiceprints(
    storage::Store& store, blobs::BlobStore& blobs, const std::string& firm_id,
    const std::string& recording_id);

// The voiceprint of `ranges` of a firm's recording (its file in the blob store), relative to
// the whole recording as the diarizer's are: the file is decoded once, in pieces, keeping only
// its features (8 KB per second of audio). kNotFound for a recording of another firm;
// kInvalidArgument when the ranges hold less than `min_seconds`; kUndecodable / kIo from the
// decoder. The seconds returned are those the ranges covered.
Result<diarization::WeightedVoiceprint> VoiceprintOfRecordingRanges(
    storage::Store& store, blobs::BlobStore& blobs, const std::string& firm_id,
    const std::string& recording_id, const std::vector<diarization::TimeRange>& ranges,
    double min_seconds);

}  // namespace crm::pipeline
