// Joining the transcripts of overlapping chunks into one transcript of the whole recording.
#pragma once

#include <vector>

#include "asr/transcript.h"

namespace crm::asr::remote {

struct ChunkTranscript {
  Transcript transcript;  // times relative to the chunk's start
  double offset = 0;      // seconds: where the chunk starts in the recording
  double keep_from = 0;   // seconds, whole recording: this chunk's share starts here...
  double keep_until = 0;  // ...and ends here (the middles of the overlaps)
};

// Shifts every time by its chunk's offset and keeps, of each chunk, only what lies in its share:
// a word belongs to the chunk whose share holds its middle, so words heard twice in an overlap
// appear once. A segment losing words is cut down to the words it keeps (text rebuilt from
// them); a segment without word times is kept by the chunk whose share holds its middle.
// Segments are renumbered; `duration` is the whole recording's.
Transcript Stitch(const std::vector<ChunkTranscript>& chunks, double duration);

}  // namespace crm::asr::remote
