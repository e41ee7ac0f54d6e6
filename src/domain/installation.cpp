#include "domain/installation.h"

namespace crm::domain {

Result<InstallationCounts> CountInstallation(storage::Store& store) {
  CRM_ASSIGN_OR_RETURN(
      auto row, store.QueryOne("SELECT (SELECT COUNT(*) FROM firms) AS firms, (SELECT COUNT(*) "
                               "FROM users) AS users, (SELECT COUNT(*) FROM clients) AS clients, "
                               "(SELECT COUNT(*) FROM meetings) AS meetings"));
  InstallationCounts c;
  if (!row) return c;
  c.firms = row->Int("firms");
  c.users = row->Int("users");
  c.clients = row->Int("clients");
  c.meetings = row->Int("meetings");
  return c;
}

}  // namespace crm::domain
