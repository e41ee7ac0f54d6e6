-- A platform admin's session may act inside one firm at a time (the firm switcher): while
-- acting_firm_id is set, the session is that firm's admin for every scoping check, and the
-- start and the end are written to the firm's audit log and to the platform's (firm_id NULL).
-- No foreign key: a firm removed meanwhile simply ends the acting (authentication joins firms).
ALTER TABLE sessions ADD COLUMN acting_firm_id TEXT;
ALTER TABLE sessions ADD COLUMN acting_since TEXT;
