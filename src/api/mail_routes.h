// Route module of the mail subsystem, registered through App::route_modules by
// cli/subsystems.cpp (it needs the blob store, the job queue and the exports).
#pragma once

#include "api/app.h"
#include "mail/outbox.h"

namespace crm::api {

// The outbox (firm and platform), attachments, retry; a report mailed to its client.
void RegisterMailRoutes(http::Router& r, App& app, mail::MailService& m);

}  // namespace crm::api
