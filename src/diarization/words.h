// Words to speakers: makes a transcript read like a dialogue.
//
// Each word gets the speaker whose turn overlaps it the most (the nearest turn in time when none
// does); a segment without words is treated as one word spanning the segment. Segments are then
// split wherever the speaker changes between consecutive words, so every segment has one
// speaker. A split segment's pieces keep its decoding scores; its token ids stay with the first
// piece. Segment ids are renumbered from 0.
#pragma once

#include <vector>

#include "asr/transcript.h"
#include "diarization/diarization.h"

namespace crm::diarization {

// Index into `turns` of the best turn for [start, end), or -1 when `turns` is empty.
int BestTurn(const std::vector<Turn>& turns, double start, double end);

// `turns`: exclusive turns (Diarization::exclusive_turns), sorted by start.
void AssignSpeakers(const std::vector<Turn>& turns, asr::Transcript* transcript);

}  // namespace crm::diarization
