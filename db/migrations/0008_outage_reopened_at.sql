-- When an incident was last reopened: its time to be taken and to be resolved start again from here,
-- so a reopened outage is not escalated to admins at once as if nobody had taken it for hours.
ALTER TABLE incidents ADD COLUMN reopened_at TEXT;
