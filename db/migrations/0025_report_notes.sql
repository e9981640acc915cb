-- What residents show the engineers besides what and since when: words, photos (any number) and a
-- location, given with the report or added to it later. One row per piece.
CREATE TABLE report_notes (
    id             INTEGER PRIMARY KEY,
    report_id      INTEGER NOT NULL REFERENCES reports (id),
    at             TEXT    NOT NULL,
    added_later    INTEGER NOT NULL DEFAULT 0,   -- 1: added from /myreports after the report was sent
    text           TEXT,
    photo_file_id  TEXT,
    latitude       REAL,
    longitude      REAL,
    source_key     TEXT UNIQUE,                  -- the update that added it: redelivery adds nothing
    CHECK ((text IS NOT NULL) + (photo_file_id IS NOT NULL) + (latitude IS NOT NULL AND longitude IS NOT NULL) = 1)
);
CREATE INDEX report_notes_report ON report_notes (report_id, id);

INSERT INTO report_notes (report_id, at, text)
    SELECT id, created_at, description FROM reports WHERE description IS NOT NULL;
INSERT INTO report_notes (report_id, at, photo_file_id)
    SELECT id, created_at, photo_file_id FROM reports WHERE photo_file_id IS NOT NULL;
INSERT INTO report_notes (report_id, at, latitude, longitude)
    SELECT id, created_at, latitude, longitude FROM reports WHERE latitude IS NOT NULL AND longitude IS NOT NULL;
ALTER TABLE reports DROP COLUMN description;
ALTER TABLE reports DROP COLUMN photo_file_id;
ALTER TABLE reports DROP COLUMN latitude;
ALTER TABLE reports DROP COLUMN longitude;

-- A resident may withdraw a report: it stops counting; an incident whose every report is withdrawn
-- closes (state 'resolved', incidents.withdrawn_at set, no resolution).
ALTER TABLE reports ADD COLUMN withdrawn_at TEXT;
ALTER TABLE incidents ADD COLUMN withdrawn_at TEXT;

-- A phone number the resident chose to share with the engineers for this report (Telegram's
-- «share my number» button), and when they agreed. NULL: not shared, never shown.
ALTER TABLE reports ADD COLUMN phone TEXT;
ALTER TABLE reports ADD COLUMN phone_shared_at TEXT;
