// The CRM core's records: clients (individuals or companies), their contacts, meetings and tasks,
// described as ResourceSpecs for the RecordStore.
#pragma once

#include "domain/records.h"

namespace crm::domain {

const ResourceSpec& ClientSpec();
const ResourceSpec& ContactSpec();
const ResourceSpec& MeetingSpec();
const ResourceSpec& TaskSpec();

// A client's timeline, newest first: its meetings (at their start), tasks (at their due date, or
// creation) and notes (at the client's last update), up to 200 of each. kNotFound when the client
// is not the firm's.
Result<std::vector<nlohmann::json>> ClientTimeline(storage::Store& store,
                                                   const std::string& firm_id,
                                                   const std::string& client_id);

}  // namespace crm::domain
