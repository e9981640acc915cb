-- Reminders wait here until due, then go to the outbox: a pending outbox row that is not due yet
-- would hold back every newer notification to that chat, so they are not queued early.
CREATE TABLE IF NOT EXISTS class_reminders (
    booking_id  INTEGER NOT NULL REFERENCES bookings (id),
    hours       INTEGER NOT NULL,                   -- how long before the start
    due_at      TEXT    NOT NULL,                   -- UTC
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dropped')),
    PRIMARY KEY (booking_id, hours)
);
CREATE INDEX IF NOT EXISTS class_reminders_due ON class_reminders (due_at) WHERE state = 'pending';
