// Recordings: a client's audio or video file (optionally of a meeting), its media facts, the
// participants' consent, and the job that turns it into a transcript.
//
// Contract:
// - A row and its file appear together or not at all: the caller stores the blob at its final
//   key (RecordingBlobKey) first, then Create() inserts the row; the caller deletes the blob when
//   Create() fails (and pipeline's intake sweep when the process dies in between). No blob is
//   moved or copied inside the transaction (on S3 that would be a 200 MB copy under the lock).
// - Every call takes the caller's firm; a recording of another firm is kNotFound, exactly like a
//   missing one.
// - Consent is required (GDPR): Create() refuses a recording without an explicit true/false.
// - Duplicates (same SHA-256, same client) are reported, never refused: the firm decides.
// - Delete() removes the row (its transcript rows follow by foreign key), audits it in the same
//   transaction, then deletes the file (idempotent, so a crash in between only leaves a file no
//   row names).
// - Processing state lives on the job and is asked of the job queue (ProcessingLookup), never
//   joined from its tables: a queue on Redis answers the same question.
#pragma once

#include <functional>
#include <map>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "blobs/blob_store.h"
#include "common/principal.h"
#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

struct RecordingMedia {
  std::string container;
  std::string codec;
  double duration_seconds = 0;
  int sample_rate = 0;
  int channels = 0;
  bool has_video = false;
  int64_t size_bytes = 0;
  std::string sha256;
};

struct NewRecording {
  std::string client_id;
  std::optional<std::string> meeting_id;
  std::string title;
  std::string original_name;
  std::optional<std::string> language;  // nullopt: the firm's / installation's default
  bool consent = false;
  RecordingMedia media;
};

// What an upload names as its owner: a meeting (the client follows) or a client.
struct RecordingTarget {
  std::string client_id;
  std::optional<std::string> meeting_id;
};

// The metadata of an upload (query parameters, multipart text fields or a JSON body): consent
// (required: "true"/"false"/"1"/"0"/"oui"/"non"), title, filename, language. 422 with the field
// names in details when one is missing or wrong.
struct UploadMetadata {
  bool consent = false;
  std::string title;
  std::string filename;
  std::optional<std::string> language;
};
Result<UploadMetadata> ParseUploadMetadata(const std::map<std::string, std::string>& fields);

// A recording's processing as its job queue reports it.
struct Processing {
  std::string state;        // queued, processing, done, failed, cancelled
  double progress = 0;      // 0..1
  std::optional<std::string> stage;
  std::optional<int64_t> eta_seconds;
  std::optional<std::string> error_code, error_message;
};
// Asks the job queue (whichever implementation) for the processing of the firm's `job_ids`; ids
// it does not know are left out (their recordings show "pending").
using ProcessingLookup = std::function<Result<std::map<std::string, Processing>>(
    const std::string& firm_id, const std::vector<std::string>& job_ids)>;

class RecordingStore {
 public:
  // Without `processing`, every recording shows "pending" (tools that only read rows).
  RecordingStore(storage::Store& store, blobs::BlobStore& blobs, ProcessingLookup processing = {})
      : store_(store), blobs_(blobs), processing_(std::move(processing)) {}

  // The client (and meeting) a new recording of `meeting_id` / `client_id` belongs to; kNotFound
  // when it is not the firm's.
  Result<RecordingTarget> TargetOfMeeting(const std::string& firm_id,
                                          const std::string& meeting_id);
  Result<RecordingTarget> TargetOfClient(const std::string& firm_id, const std::string& client_id);

  // Inserts the row `id` (audited) naming the already-stored blob RecordingBlobKey(firm, id).
  // Returns the recording's JSON with "duplicates": ids of this client's recordings with the
  // same hash.
  Result<nlohmann::json> Create(const Principal& who, const NewRecording& rec,
                                const std::string& id);
  Result<nlohmann::json> Get(const std::string& firm_id, const std::string& id);
  // Newest first; filters on client_id / meeting_id when given.
  Result<std::pair<std::vector<nlohmann::json>, std::optional<std::string>>> List(
      const std::string& firm_id, int limit, const std::string& cursor,
      const std::optional<std::string>& client_id, const std::optional<std::string>& meeting_id);
  // The raw row (blob key, job id...), kNotFound when not the firm's.
  Result<storage::Row> Row(const std::string& firm_id, const std::string& id);
  Status SetJob(const std::string& firm_id, const std::string& id, const std::string& job_id);
  // Row (and, through foreign keys, its transcript) then file; audited.
  Status Delete(const Principal& who, const std::string& id);

 private:
  Result<std::vector<std::string>> Duplicates(storage::Connection& c, const std::string& firm_id,
                                              const std::string& client_id,
                                              const std::string& sha256, const std::string& except);
  // The JSON of `rows`, each with its job's processing asked of the queue in one call.
  Result<std::vector<nlohmann::json>> WithProcessing(const std::string& firm_id,
                                                      const storage::Rows& rows);
  storage::Store& store_;
  blobs::BlobStore& blobs_;
  ProcessingLookup processing_;
};

// recordings/<firm>/<id>
std::string RecordingBlobKey(const std::string& firm_id, const std::string& id);
// The API JSON of a recordings row and its processing (null: no job yet, "pending").
nlohmann::json RecordingToJson(const storage::Row& row, const Processing* processing);

}  // namespace crm::domain
