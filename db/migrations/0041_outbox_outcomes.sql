-- Two more ends for an outbox row, and what the worker must remember to avoid duplicates:
--   superseded   a newer row for the same slot and chat was sent instead (edits coalesced);
--   unconfirmed  sent, and resent once, without Telegram ever answering: probably delivered,
--                not tried again so that nobody gets it a third time.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt with the same rows.
CREATE TABLE outbox_new (
    id                INTEGER PRIMARY KEY,
    chat_id           INTEGER NOT NULL,
    kind              TEXT    NOT NULL,
    params            TEXT    NOT NULL DEFAULT '{}',
    dedup_key         TEXT UNIQUE,
    slot              TEXT,
    state             TEXT    NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'sent', 'failed', 'dropped', 'superseded', 'unconfirmed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT    NOT NULL,
    next_attempt      TEXT    NOT NULL,
    sent_at           TEXT,
    last_error        TEXT,
    message_id        INTEGER,
    -- Sends whose request reached Telegram but whose answer never came (a read timeout, or the
    -- connection closed before the answer). The first is resent once after a pause; the second
    -- makes the row 'unconfirmed'.
    unknown_outcomes  INTEGER NOT NULL DEFAULT 0,
    superseded_by     INTEGER                       -- the row that was sent in this one's place
);
INSERT INTO outbox_new (id, chat_id, kind, params, dedup_key, slot, state, attempts, created_at,
                        next_attempt, sent_at, last_error, message_id)
    SELECT id, chat_id, kind, params, dedup_key, slot, state, attempts, created_at,
           next_attempt, sent_at, last_error, message_id
    FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (state, next_attempt, id);
CREATE INDEX outbox_chat ON outbox (chat_id, state, id);
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE state = 'sent';
-- Coalescing looks for the newest pending row of one slot in one chat.
CREATE INDEX outbox_pending_slot ON outbox (slot, chat_id, id) WHERE state = 'pending' AND slot IS NOT NULL;

-- What the slot's message shows now (a hash of its text and buttons): an edit that would show the
-- same is not sent at all.
ALTER TABLE outbox_slots ADD COLUMN shown_hash TEXT;
