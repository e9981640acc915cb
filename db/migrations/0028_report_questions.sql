-- «📞 Ask the reporter»: an engineer's question to the resident through the bot, and the answer.
CREATE TABLE report_questions (
    id           INTEGER PRIMARY KEY,
    report_id    INTEGER NOT NULL REFERENCES reports (id),
    asked_by     INTEGER NOT NULL,
    asked_at     TEXT    NOT NULL,
    question     TEXT    NOT NULL,
    answer       TEXT,
    answered_at  TEXT,
    source_key   TEXT UNIQUE,                     -- the update that asked: redelivery asks once
    answer_key   TEXT                             -- the update that answered
);
CREATE INDEX report_questions_report ON report_questions (report_id, id);
