-- Derived data is written by domain code in the write's own transaction, not by triggers: InnoDB
-- fires no trigger for a foreign-key cascade, so a schema that needed one would be silently wrong
-- on MariaDB. The firm's data version is bumped by domain::BumpFirmDataVersionIn() on every
-- write to clients, contacts, meetings and tasks; the names a deleted voiceprint gave are
-- cleared by domain::ForgetVoiceprintsIn() before the voiceprint (or its contact) is deleted.
DROP TRIGGER IF EXISTS clients_insert_bumps_firm_version;
DROP TRIGGER IF EXISTS clients_update_bumps_firm_version;
DROP TRIGGER IF EXISTS clients_delete_bumps_firm_version;
DROP TRIGGER IF EXISTS contacts_insert_bumps_firm_version;
DROP TRIGGER IF EXISTS contacts_update_bumps_firm_version;
DROP TRIGGER IF EXISTS contacts_delete_bumps_firm_version;
DROP TRIGGER IF EXISTS meetings_insert_bumps_firm_version;
DROP TRIGGER IF EXISTS meetings_update_bumps_firm_version;
DROP TRIGGER IF EXISTS meetings_delete_bumps_firm_version;
DROP TRIGGER IF EXISTS tasks_insert_bumps_firm_version;
DROP TRIGGER IF EXISTS tasks_update_bumps_firm_version;
DROP TRIGGER IF EXISTS tasks_delete_bumps_firm_version;
DROP TRIGGER IF EXISTS voiceprints_delete_clears_automatic_names;
