-- All multi-step flows run in one conversation ("flows"), so a person is in at most one of them.
-- States kept under the old per-feature names would never be read again.
DELETE FROM conversations WHERE name <> 'flows';

-- 1 while a reply keyboard of ours (e.g. «📍 Share my location») is under this person's text field;
-- the next answer takes it away.
ALTER TABLE users ADD COLUMN reply_keyboard INTEGER NOT NULL DEFAULT 0;
