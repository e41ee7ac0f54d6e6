// The recording pipeline's subsystems: the blob store, the durable job queue and its workers
// (QUEUE_WORKERS threads in `serve`, a pool in `crm-ai worker`), the transcription engine and
// the pipeline's job handler, plus the routes and readiness checks they contribute to the App.
#include "cli/subsystems.h"

#include <algorithm>

#include "api/document_routes.h"
#include "api/mail_routes.h"
#include "api/recording_routes.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/text.h"
#include "domain/processing_metrics.h"
#include "domain/transcripts.h"
#include "jobs/queue_config.h"
#include "jobs/worker_pool.h"
#include "pipeline/services.h"
#include "pipeline/waveform.h"

namespace crm::cli {

// The speech model's readiness (a `warn` while whisper_local has no model file). Also meant for
// `doctor`, which checks without starting the subsystems.
void AddPipelineChecks(api::App& app) {
  pipeline::EngineOptions eo = pipeline::EngineOptionsFromConfig(app.config);
  app.checks.push_back([eo] {
    auto st = pipeline::SpeechModelStatus(eo);
    return api::Check{"speech model", st.level, st.detail, st.action};
  });
}

namespace {

// /metrics: jobs by kind and state, the queue's depth and age, and the processing figures read
// from the database (the same on every server, whichever worker did the work).
std::string JobMetrics(jobs::JobQueue& queue, storage::Store& store) {
  std::string out;
  auto stats = queue.Stats(jobs::Scope::All());
  if (stats.ok()) {
    metrics::AppendHeader(out, "crm_jobs", "Jobs by kind and state", "gauge");
    for (const auto& k : stats->by_kind)
      metrics::AppendSample(out, "crm_jobs", {{"kind", k.kind}, {"state", k.state}},
                            static_cast<double>(k.count));
    metrics::AppendHeader(out, "crm_queue_depth", "Jobs queued and due now", "gauge");
    metrics::AppendSample(out, "crm_queue_depth", {}, static_cast<double>(stats->depth));
    metrics::AppendHeader(out, "crm_queue_scheduled", "Jobs queued for later (retry backoff)",
                          "gauge");
    metrics::AppendSample(out, "crm_queue_scheduled", {}, static_cast<double>(stats->scheduled));
    metrics::AppendHeader(out, "crm_queue_oldest_age_seconds",
                          "How long the oldest due job has waited (0 when none)", "gauge");
    metrics::AppendSample(out, "crm_queue_oldest_age_seconds", {},
                          stats->oldest_due_age_ms ? *stats->oldest_due_age_ms / 1000.0 : 0.0);
    metrics::AppendHeader(out, "crm_jobs_finished_per_minute",
                          "Jobs finished per minute over the last 5 minutes", "gauge");
    metrics::AppendSample(out, "crm_jobs_finished_per_minute", {}, stats->throughput_per_minute);
  }
  auto p = domain::ReadProcessingFigures(store, pipeline::kTranscribeJobKind,
                                         static_cast<int64_t>(NowUnix()) * 1000);
  if (p.ok()) {
    metrics::AppendHeader(out, "crm_transcribed_audio_seconds",
                          "Seconds of audio in stored transcripts", "gauge");
    metrics::AppendSample(out, "crm_transcribed_audio_seconds", {}, p->transcribed_audio_seconds);
    metrics::AppendHeader(out, "crm_recordings", "Recordings stored", "gauge");
    metrics::AppendSample(out, "crm_recordings", {}, static_cast<double>(p->recordings));
    metrics::AppendHeader(out, "crm_recording_bytes", "Bytes of recordings stored", "gauge");
    metrics::AppendSample(out, "crm_recording_bytes", {}, static_cast<double>(p->recording_bytes));
    metrics::AppendHeader(out, "crm_recordings_processed_last_hour",
                          "Recordings whose processing succeeded in the last hour", "gauge");
    metrics::AppendSample(out, "crm_recordings_processed_last_hour", {},
                          static_cast<double>(p->recent_jobs));
    metrics::AppendHeader(out, "crm_processing_realtime_factor",
                          "Processing time over audio time of the last hour's recordings "
                          "(transcription, diarization, storage; below 1 is faster than real "
                          "time; 0 when none)",
                          "gauge");
    metrics::AppendSample(out, "crm_processing_realtime_factor", {},
                          p->recent_audio_seconds > 0
                              ? p->recent_processing_seconds / p->recent_audio_seconds
                              : 0.0);
  }
  return out;
}

// A recording's processing, asked of the job queue (whichever implementation runs it).
domain::ProcessingLookup ProcessingFrom(jobs::JobQueue& queue) {
  return [&queue](const std::string& firm_id, const std::vector<std::string>& job_ids)
             -> Result<std::map<std::string, domain::Processing>> {
    CRM_ASSIGN_OR_RETURN(auto found, queue.GetMany(jobs::Scope::Firm(firm_id), job_ids));
    std::map<std::string, domain::Processing> out;
    for (const auto& job : found) {
      domain::Processing p;
      p.state = job.state == jobs::JobState::kRunning ? "processing"
                : job.state == jobs::JobState::kSucceeded
                    ? "done"
                    : std::string(jobs::JobStateName(job.state));
      p.progress = job.progress;
      if (!job.stage.empty()) p.stage = job.stage;
      p.eta_seconds = job.eta_seconds;
      if (job.last_error) {
        p.error_code = job.last_error->CodeName();
        p.error_message = job.last_error->message;
      }
      out.emplace(job.id, std::move(p));
    }
    return out;
  };
}

// Workers keep short leases: a worker that dies hands its job to another within seconds.
constexpr auto kLease = std::chrono::milliseconds(8'000);
constexpr auto kStopGrace = std::chrono::milliseconds(10'000);

class PipelineSubsystems final : public Subsystems {
 public:
  explicit PipelineSubsystems(api::App& app)
      : config_(app.config), engine_options_(pipeline::EngineOptionsFromConfig(app.config)) {}

  Status Start(api::App& app, bool serve) {
    CRM_ASSIGN_OR_RETURN(blobs_, blobs::OpenLocalBlobStore(config_.data_dir));
    if (auto swept = blobs_->SweepTemporary(std::chrono::hours(24)); !swept.ok())
      log::Warn("temporary blobs not swept", {{"error", swept.error().message}});
    queue_ = jobs::NewDatabaseJobQueue(*app.store, jobs::QueueOptionsFromConfig(config_));
    engine_ = pipeline::MakeEngine(engine_options_);
    pipeline::PipelineOptions po;
    po.diarization = config_.diarization;
    po.default_language = config_.transcription_language;
    po.vad = config_.vad;
    po.vad_model = config_.vad_model;
    po.queue_timeout = config_.queue_timeout;
    po.diarization_threads = engine_options_.whisper_threads;
    po.tmp_dir = config_.data_dir + "/tmp";
    pipeline::TranscriptWriter writer = [](storage::Connection& c, const std::string& firm,
                                           const std::string& id, const asr::Transcript& t) {
      return domain::SaveEngineTranscript(c, firm, id, t);
    };
    pipeline_ =
        std::make_unique<pipeline::RecordingPipeline>(*app.store, *blobs_, *engine_, writer, po);
    recordings_ =
        std::make_unique<domain::RecordingStore>(*app.store, *blobs_, ProcessingFrom(*queue_));
    uploads_ = std::make_unique<pipeline::ResumableUploads>(*app.store, config_.data_dir + "/tmp");
    if (auto swept = uploads_->SweepExpired(); !swept.ok())
      log::Warn("expired uploads not swept", {{"error", swept.error().message}});
    services_ = std::make_unique<pipeline::Services>(pipeline::Services{
        config_, *app.store, *blobs_, *queue_, *engine_, *pipeline_, *recordings_, *uploads_});
    if (auto swept = pipeline::SweepAbandonedIntake(*services_); !swept.ok())
      log::Warn("abandoned uploads not swept", {{"error", swept.error().message}});
    documents_ = std::make_unique<documents::DocumentStore>(*app.store, *blobs_);
    documents::ExtractionOptions eo;
    eo.tmp_dir = config_.data_dir + "/tmp";
    text_job_ = std::make_unique<documents::DocumentTextJob>(*app.store, *blobs_, eo);
    reports_ = std::make_unique<documents::ReportStore>(*app.store);
    documents::ReportJobOptions ro;
    ro.mode = config_.summary_mode;
    ro.openai.base_url = config_.openai_base_url;
    ro.openai.api_key = config_.openai_api_key;
    ro.openai.model = config_.openai_chat_model;
    ro.openai.timeout_seconds = config_.openai_chat_timeout;
    ro.openai.max_retries = config_.openai_chat_retries;
    ro.openai.chunk_chars = config_.summary_chunk_chars;
    report_job_ = std::make_unique<documents::ReportJob>(*app.store, *reports_, ro);
    documents::ExportOptions xo;
    xo.tmp_dir = config_.data_dir + "/tmp";
    xo.pdf.converter = config_.pdf_converter;
    xo.pdf.gotenberg_url = config_.gotenberg_url;
    xo.pdf.tmp_dir = xo.tmp_dir;
    exports_ = std::make_unique<documents::ExportService>(*app.store, *blobs_, *queue_, *documents_,
                                                          *text_job_, xo);
    document_services_ =
        std::make_unique<documents::DocumentServices>(documents::DocumentServices{config_,
                                                                                  *blobs_,
                                                                                  *queue_,
                                                                                  *documents_,
                                                                                  *text_job_,
                                                                                  *reports_,
                                                                                  *report_job_,
                                                                                  *exports_,
                                                                                  {}});

    waveform_job_ = std::make_unique<pipeline::WaveformJob>(*app.store, *blobs_);
    mail_ = std::make_unique<mail::MailService>(*app.store, *blobs_, *queue_, *exports_,
                                                mail::MailOptionsFromConfig(config_));
    app.mail = mail_.get();
    // A client's deletion cascades to its documents and mails: their files go too.
    storage::Store* store = app.store.get();
    blobs::BlobStore* blob_store = blobs_.get();
    mail::MailService* mail_service = mail_.get();
    app.before_client_delete.push_back([store, blob_store, mail_service](
                                           const std::string& firm, const std::string& client) {
      std::vector<std::string> keys;
      auto docs = store->Query(
          "SELECT v.blob_key FROM document_versions v JOIN documents d "
          "ON d.id = v.document_id WHERE d.firm_id = ? AND d.client_id = ?",
          {firm, client});
      if (docs.ok())
        for (const auto& r : *docs) keys.push_back(r.Text("blob_key"));
      if (auto atts = mail_service->ClientAttachmentKeys(firm, client); atts.ok())
        keys.insert(keys.end(), atts->begin(), atts->end());
      return std::function<void()>([blob_store, store, firm, client, keys] {
        // Only once the rows are gone (a refused deletion leaves everything in place).
        auto still =
            store->QueryOne("SELECT id FROM clients WHERE firm_id = ? AND id = ?", {firm, client});
        if (!still.ok() || *still) return;
        for (const auto& k : keys)
          if (auto st = blob_store->Delete(k); !st.ok())
            log::Warn("file of a deleted client not removed", {{"key", k}});
      });
    });

    jobs::WorkerPoolOptions wo = jobs::PoolOptionsFromConfig(config_);
    if (!serve) wo.workers = std::max(1, wo.workers);  // `crm-ai worker` always runs workers
    const int workers = wo.workers;
    if (workers > 0) {
      wo.lease = kLease;
      pool_ = std::make_unique<jobs::WorkerPool>(*queue_, wo);
      pool_->Register(pipeline::kTranscribeJobKind, pipeline_->Handler());
      pool_->Register(documents::kDocumentTextJobKind, text_job_->Handler());
      pool_->Register(documents::kReportJobKind, report_job_->Handler());
      pool_->Register(documents::kExportJobKind, exports_->Handler());
      pool_->Register(pipeline::kWaveformJobKind, waveform_job_->Handler());
      pool_->Register(mail::kSendJobKind, mail_->SendHandler());
      pool_->Register(mail::kTickJobKind, mail_->TickHandler());
      CRM_TRY(pool_->Start());
      mail_->StartTicker();
      log::Info(
          "job workers started",
          {{"workers", workers}, {"engine", engine_->name()}, {"worker_id", pool_->worker_id()}});
    }

    pipeline::Services* s = services_.get();
    documents::DocumentServices* ds = document_services_.get();
    app.route_modules.push_back([s, ds, mail_service](http::Router& r, api::App& a) {
      api::RegisterMailRoutes(r, a, *mail_service);
      api::RegisterRecordingRoutes(r, a, *s);
      api::RegisterV1Routes(r, a, *s);
      api::RegisterDocumentRoutes(r, a, *ds);
      api::RegisterReportRoutes(r, a, *ds);
      api::RegisterExportRoutes(r, a, *ds);
    });
    AddPipelineChecks(app);
    app.checks.push_back([mail_service, store] {
      const auto& o = mail_service->options();
      std::string how = o.mailer == "smtp"
                            ? std::string(o.smtp.encryption == "ssl" ? "smtps://" : "smtp://") +
                                  o.smtp.host + ":" + std::to_string(o.smtp.port) +
                                  (o.smtp.encryption.empty() ? "" : " (" + o.smtp.encryption + ")")
                            : std::string("outbox: mails are kept, not sent");
      auto failed =
          store->QueryOne("SELECT COUNT(*) AS n FROM mail_outbox WHERE status = 'failed'");
      int64_t n = failed.ok() && *failed ? (*failed)->Int("n") : 0;
      if (n > 0)
        return api::Check{"mail", "warn", how + "; " + std::to_string(n) + " failed mail(s)",
                          "read last_error in the outbox (GET /api/admin/mails?status=failed), "
                          "fix the SMTP settings, then retry them"};
      return api::Check{"mail", "ok", how, ""};
    });
    jobs::JobQueue* q = queue_.get();
    app.checks.push_back([q] {
      auto stats = q->Stats(jobs::Scope::All());
      if (!stats.ok())
        return api::Check{"job queue", "fail", stats.error().message, "check the database"};
      return api::Check{"job queue", "ok",
                        std::to_string(stats->depth) + " waiting, " +
                            std::to_string(stats->running) + " running, " +
                            std::to_string(stats->failed) + " failed",
                        ""};
    });
    app.metrics.push_back([q, store] { return JobMetrics(*q, *store); });
    return OkStatus();
  }

  void Stop() override {
    if (mail_) mail_->StopTicker();
    if (pool_) pool_->Stop(kStopGrace);
  }

 private:
  const config::Config& config_;
  pipeline::EngineOptions engine_options_;
  std::unique_ptr<blobs::BlobStore> blobs_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<pipeline::TranscriptionEngine> engine_;
  std::unique_ptr<pipeline::RecordingPipeline> pipeline_;
  std::unique_ptr<domain::RecordingStore> recordings_;
  std::unique_ptr<pipeline::ResumableUploads> uploads_;
  std::unique_ptr<pipeline::Services> services_;
  std::unique_ptr<documents::DocumentStore> documents_;
  std::unique_ptr<documents::DocumentTextJob> text_job_;
  std::unique_ptr<documents::ReportStore> reports_;
  std::unique_ptr<documents::ReportJob> report_job_;
  std::unique_ptr<documents::ExportService> exports_;
  std::unique_ptr<documents::DocumentServices> document_services_;
  std::unique_ptr<pipeline::WaveformJob> waveform_job_;
  std::unique_ptr<mail::MailService> mail_;
  std::unique_ptr<jobs::WorkerPool> pool_;
};

}  // namespace

Result<std::unique_ptr<Subsystems>> StartSubsystems(api::App& app, bool serve) {
  auto s = std::make_unique<PipelineSubsystems>(app);
  CRM_TRY(s->Start(app, serve));
  return std::unique_ptr<Subsystems>(std::move(s));
}

}  // namespace crm::cli
