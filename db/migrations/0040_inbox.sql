-- Updates as Telegram delivered them, stored before they are confirmed (getUpdates offset, or the
-- webhook's 200 answer) and marked done once handled: a crash at any moment leaves every update
-- either unconfirmed at Telegram (it comes again) or here, undone (it is handled after the restart).
CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT,                             -- the Update as JSON; NULL once handled
    received_at  TEXT    NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,       -- starts of the bot that found it not done
    done_at      TEXT,
    outcome      TEXT                              -- 'ok', 'error', 'abandoned'
);
-- The undone rows, in the order they are handled.
CREATE INDEX inbox_undone ON inbox (update_id) WHERE done_at IS NULL;
-- Clearing out handled rows after a few days.
CREATE INDEX inbox_done_at ON inbox (done_at) WHERE done_at IS NOT NULL;

