-- Every message that shows an incident to staff, so that each is edited when the incident changes.
-- A post is an outbox slot in one chat: the first alert ('alert'), a new message for a reopening or
-- an escalation that replies to the earlier one ('reopened', 'escalated'), or an engineer's open
-- /outages detail ('view', whose message the handler showed: message_id).
CREATE TABLE outage_posts (
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    chat_id      INTEGER NOT NULL,
    slot         TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('alert', 'reopened', 'escalated', 'view')),
    reply_to     TEXT,                            -- the slot of the message this one answers
    message_id   INTEGER,                         -- a view: the message showing it
    created_at   TEXT    NOT NULL,
    PRIMARY KEY (slot, chat_id)
);
CREATE INDEX outage_posts_incident ON outage_posts (incident_id, chat_id);
CREATE UNIQUE INDEX outage_posts_view ON outage_posts (chat_id, message_id) WHERE message_id IS NOT NULL;

-- A staff group speaks both languages (Kazakh first) unless an admin chose one for it.
CREATE TABLE group_languages (
    chat_id   INTEGER PRIMARY KEY,
    language  TEXT    NOT NULL CHECK (language IN ('kk', 'ru')),
    set_by    INTEGER,
    set_at    TEXT    NOT NULL
);
