#include "jobs/queue_config.h"

namespace crm::jobs {

DatabaseJobQueueOptions QueueOptionsFromConfig(const config::Config& config) {
  DatabaseJobQueueOptions options;
  options.default_max_attempts = config.queue_tries;
  options.default_timeout_seconds = config.queue_timeout;
  return options;
}

WorkerPoolOptions PoolOptionsFromConfig(const config::Config& config) {
  WorkerPoolOptions options;
  options.workers = config.queue_workers;
  return options;
}

}  // namespace crm::jobs
