// Firms (cabinets): name, optional SIRET (14 digits, Luhn-checked), address, settings.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "storage/store.h"

namespace crm::domain {

Result<nlohmann::json> CreateFirm(storage::Store& store, const nlohmann::json& body);
Result<nlohmann::json> GetFirm(storage::Store& store, const std::string& id);
Result<std::vector<nlohmann::json>> ListFirms(storage::Store& store);
Result<nlohmann::json> UpdateFirm(storage::Store& store, const std::string& id, const nlohmann::json& body,
                                  std::optional<int64_t> expected_version);
bool IsValidSiret(const std::string& siret);

}  // namespace crm::domain
