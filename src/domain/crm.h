// The CRM core's records: clients (individuals or companies), their contacts, meetings and tasks,
// described as ResourceSpecs for the RecordStore.
#pragma once

#include "domain/records.h"

namespace crm::domain {

const ResourceSpec& ClientSpec();
const ResourceSpec& ContactSpec();
const ResourceSpec& MeetingSpec();
const ResourceSpec& TaskSpec();

}  // namespace crm::domain
