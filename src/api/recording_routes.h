// Route modules of the recording pipeline, registered through App::route_modules by
// cli/subsystems.cpp (they need the pipeline's services: blob store, job queue, engine).
#pragma once

#include "api/app.h"
#include "pipeline/services.h"

namespace crm::api {

// Uploads (direct and resumable), recordings, their audio (Range), progress (SSE) and jobs.
void RegisterRecordingRoutes(http::Router& r, App& app, pipeline::Services& s);
// POST /v1/audio/transcriptions and GET /v1/models, in OpenAI's wire format.
void RegisterV1Routes(http::Router& r, App& app, pipeline::Services& s);

}  // namespace crm::api
