-- Announcements an admin sent to an area (planned works, a new schedule), and the villages whose
-- announcements a resident no longer wants while still following the village.
CREATE TABLE announcements (
    id          INTEGER PRIMARY KEY,
    author_id   INTEGER NOT NULL,
    area        TEXT    NOT NULL,                  -- KATO prefix: '' everywhere, '55' a region, … a village
    audiences   TEXT    NOT NULL,                  -- comma-separated: followers, tickets, trainers
    text_kk     TEXT    NOT NULL,
    text_ru     TEXT    NOT NULL,
    recipients  INTEGER NOT NULL,                  -- notifications queued when it was sent
    created_at  TEXT    NOT NULL,
    source_key  TEXT UNIQUE                        -- the press that sent it: pressed twice, sent once
);
CREATE INDEX announcements_author ON announcements (author_id, id);

CREATE TABLE announcement_optouts (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    village_code  TEXT    NOT NULL REFERENCES villages (code),
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (user_id, village_code)
);
