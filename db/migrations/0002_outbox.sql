-- Outgoing notifications. Rendered in the recipient's language when sent, not when queued.
CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    kind          TEXT    NOT NULL,                 -- a renderer registered in bot.notify
    params        TEXT    NOT NULL DEFAULT '{}',    -- JSON
    dedup_key     TEXT UNIQUE,                      -- enqueueing twice with one key is a no-op
    slot          TEXT,                             -- edit the message last sent for this slot
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'failed', 'dropped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT    NOT NULL,
    next_attempt  TEXT    NOT NULL,
    sent_at       TEXT,
    last_error    TEXT
);
CREATE INDEX outbox_due ON outbox (state, next_attempt, id);
CREATE INDEX outbox_chat ON outbox (chat_id, state, id);

-- The message a slot (e.g. one incident's alert in the staff group) currently shows.
CREATE TABLE outbox_slots (
    slot        TEXT    NOT NULL,
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    PRIMARY KEY (slot, chat_id)
);
