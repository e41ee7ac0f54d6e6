-- A data version per firm, bumped by triggers in the same transaction as every write to the
-- firm's CRM records (clients, contacts, meetings, tasks), whoever writes them (API, CLI, another
-- server on the same database). List pages cached by a server stay valid exactly as long as this
-- number is unchanged: each cache hit re-reads it (one primary-key lookup).
CREATE TABLE firm_data_versions (
  firm_id TEXT PRIMARY KEY,
  version INTEGER NOT NULL
);

CREATE TRIGGER clients_insert_bumps_firm_version AFTER INSERT ON clients BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER clients_update_bumps_firm_version AFTER UPDATE ON clients BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER clients_delete_bumps_firm_version AFTER DELETE ON clients BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (OLD.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER contacts_insert_bumps_firm_version AFTER INSERT ON contacts BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER contacts_update_bumps_firm_version AFTER UPDATE ON contacts BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER contacts_delete_bumps_firm_version AFTER DELETE ON contacts BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (OLD.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER meetings_insert_bumps_firm_version AFTER INSERT ON meetings BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER meetings_update_bumps_firm_version AFTER UPDATE ON meetings BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER meetings_delete_bumps_firm_version AFTER DELETE ON meetings BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (OLD.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_insert_bumps_firm_version AFTER INSERT ON tasks BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_update_bumps_firm_version AFTER UPDATE ON tasks BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (NEW.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;

CREATE TRIGGER tasks_delete_bumps_firm_version AFTER DELETE ON tasks BEGIN
  INSERT INTO firm_data_versions (firm_id, version) VALUES (OLD.firm_id, 1)
    ON CONFLICT (firm_id) DO UPDATE SET version = version + 1;
END;
