-- Places from the official classifier (KATO), their rollout state and social objects.
CREATE TABLE areas (
    code     TEXT PRIMARY KEY,                      -- KATO, 9 digits
    level    TEXT NOT NULL CHECK (level IN ('region', 'district', 'okrug')),
    parent   TEXT,
    name_kk  TEXT NOT NULL,
    name_ru  TEXT NOT NULL
);
CREATE INDEX areas_parent ON areas (parent, level);

CREATE TABLE villages (
    code                TEXT PRIMARY KEY,           -- KATO, 9 digits
    region_code         TEXT NOT NULL,
    district_code       TEXT NOT NULL,
    okrug_code          TEXT,
    name_kk             TEXT NOT NULL,              -- for display: type abbreviations removed
    name_ru             TEXT NOT NULL,
    kato_version        TEXT NOT NULL DEFAULT '',
    latitude            REAL,
    longitude           REAL,
    population          INTEGER,
    stage               TEXT NOT NULL DEFAULT 'none'
                        CHECK (stage IN ('none', 'planned', 'design', 'construction', 'connected')),
    planned_year        INTEGER,
    planned_quarter     INTEGER CHECK (planned_quarter BETWEEN 1 AND 4),
    operator            TEXT,
    technology          TEXT,                       -- now: fibre, satellite, radio, mobile
    planned_technology  TEXT,                       -- later, e.g. fibre after satellite
    note                TEXT,
    changed_at          TEXT,
    changed_by          INTEGER,
    change_reason       TEXT
);
CREATE INDEX villages_district ON villages (district_code);
CREATE INDEX villages_region ON villages (region_code);

-- Why a village's stage, planned window or technology changed: shown on its card.
CREATE TABLE village_changes (
    id            INTEGER PRIMARY KEY,
    village_code  TEXT NOT NULL REFERENCES villages (code),
    at            TEXT NOT NULL,
    actor_id      INTEGER,                          -- NULL: an import
    field         TEXT NOT NULL,
    old           TEXT,
    new           TEXT,
    reason        TEXT NOT NULL
);
CREATE INDEX village_changes_village ON village_changes (village_code, id);

CREATE TABLE social_objects (
    id            INTEGER PRIMARY KEY,
    village_code  TEXT NOT NULL REFERENCES villages (code),
    kind          TEXT NOT NULL CHECK (kind IN ('school', 'medical', 'akimat', 'library', 'other')),
    name          TEXT NOT NULL,
    connected     INTEGER NOT NULL DEFAULT 0,
    technology    TEXT,
    speed_mbps    REAL,
    connected_at  TEXT,
    UNIQUE (village_code, kind, name)
);

CREATE TABLE installations (
    id             INTEGER PRIMARY KEY,
    village_code   TEXT    NOT NULL REFERENCES villages (code),
    object_id      INTEGER NOT NULL REFERENCES social_objects (id),
    staff_id       INTEGER NOT NULL,
    technology     TEXT    NOT NULL,
    speed_mbps     REAL    NOT NULL,
    photo_file_id  TEXT,
    latitude       REAL,
    longitude      REAL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    source_key     TEXT UNIQUE                      -- the Telegram update that confirmed it
);
CREATE INDEX installations_staff ON installations (staff_id, created_at);

CREATE TABLE subscriptions (
    user_id       INTEGER NOT NULL REFERENCES users (id),
    village_code  TEXT    NOT NULL REFERENCES villages (code),
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (user_id, village_code)
);
CREATE INDEX subscriptions_village ON subscriptions (village_code);

ALTER TABLE users ADD COLUMN village_code TEXT REFERENCES villages (code);
