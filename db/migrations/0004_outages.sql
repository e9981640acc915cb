-- Outage reports (tickets) and the incidents they are grouped into.
CREATE TABLE incidents (
    id             INTEGER PRIMARY KEY,
    village_code   TEXT    NOT NULL REFERENCES villages (code),
    kind           TEXT    NOT NULL CHECK (kind IN ('home', 'school', 'medical', 'akimat', 'village', 'mobile')),
    state          TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'taken', 'in_progress', 'resolved')),
    opened_at      TEXT    NOT NULL,
    taken_at       TEXT,
    taken_by       INTEGER,
    resolved_at    TEXT,
    resolved_by    INTEGER,
    resolution     TEXT CHECK (resolution IN ('fixed', 'power', 'not_ours', 'duplicate', 'other')),
    reopened       INTEGER NOT NULL DEFAULT 0,
    escalated_at   TEXT,
    mass           INTEGER NOT NULL DEFAULT 0,
    version        INTEGER NOT NULL DEFAULT 0     -- bumped on every change: names alert edits
);
-- At most one unresolved incident per village and kind: new reports join it.
CREATE UNIQUE INDEX incidents_one_open ON incidents (village_code, kind) WHERE state != 'resolved';
CREATE INDEX incidents_state ON incidents (state, opened_at);

CREATE TABLE reports (
    id             INTEGER PRIMARY KEY,
    incident_id    INTEGER NOT NULL REFERENCES incidents (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    village_code   TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    since          TEXT    NOT NULL CHECK (since IN ('now', 'today', 'yesterday', 'days')),
    description    TEXT,
    photo_file_id  TEXT,
    latitude       REAL,
    longitude      REAL,
    created_at     TEXT    NOT NULL,
    source_key     TEXT UNIQUE,                   -- the update that filed it: redelivery adds nothing
    UNIQUE (incident_id, user_id)                 -- one person counts once per incident
);
CREATE INDEX reports_user ON reports (user_id, created_at);
CREATE INDEX reports_incident ON reports (incident_id, created_at);
