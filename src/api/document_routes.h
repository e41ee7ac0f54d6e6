// Route module of the documents subsystem, registered through App::route_modules by
// cli/subsystems.cpp (it needs the blob store, the job queue and the extraction job).
#pragma once

#include "api/app.h"
#include "documents/services.h"

namespace crm::api {

// Upload (clients' and meetings'), list, read, download (Range), rename, versions, delete.
void RegisterDocumentRoutes(http::Router& r, App& app, documents::DocumentServices& s);
// Meeting reports: request (a job), read, edit, review, accept action items as tasks.
void RegisterReportRoutes(http::Router& r, App& app, documents::DocumentServices& s);
// Exports (DOCX/PDF of reports and transcripts, as jobs) and the firm's DOCX templates.
void RegisterExportRoutes(http::Router& r, App& app, documents::DocumentServices& s);

}  // namespace crm::api
