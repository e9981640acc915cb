-- Set when a person asks to be forgotten: nothing about them (name, username, when they were seen)
-- is written again until they choose to use the bot again, which clears it (a fresh consent).
ALTER TABLE users ADD COLUMN erased_at TEXT;

-- The button press or message that created an invite: the same update delivered twice makes one
-- invite, not two.
ALTER TABLE invites ADD COLUMN source_key TEXT;
CREATE UNIQUE INDEX invites_source ON invites (source_key) WHERE source_key IS NOT NULL;
