// The queue settings of the configuration (QUEUE_TRIES, QUEUE_TIMEOUT, QUEUE_WORKERS) as the
// options of the queue and of the worker pool: what `serve` and `crm-ai worker` build theirs from
// (cli/subsystems.cpp), so a setting read here is a setting production uses.
#pragma once

#include "config/config.h"
#include "jobs/job_queue.h"
#include "jobs/worker_pool.h"

namespace crm::jobs {

// default_max_attempts = QUEUE_TRIES, default_timeout_seconds = QUEUE_TIMEOUT.
DatabaseJobQueueOptions QueueOptionsFromConfig(const config::Config& config);
// workers = QUEUE_WORKERS (in-process workers of `serve`; `crm-ai worker` may ask for more).
WorkerPoolOptions PoolOptionsFromConfig(const config::Config& config);

}  // namespace crm::jobs
