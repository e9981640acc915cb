-- Digital-literacy classes, bookings (with the waiting list and attendance).
CREATE TABLE classes (
    id            INTEGER PRIMARY KEY,
    trainer_id    INTEGER NOT NULL REFERENCES users (id),
    village_code  TEXT    NOT NULL REFERENCES villages (code),
    venue         TEXT    NOT NULL,
    starts_at     TEXT    NOT NULL,                 -- UTC
    minutes       INTEGER NOT NULL CHECK (minutes BETWEEN 15 AND 480),
    topic         TEXT    NOT NULL CHECK (topic IN ('smartphone', 'egov', 'safety', 'kundelik', 'payments')),
    language      TEXT    NOT NULL CHECK (language IN ('kk', 'ru')),
    capacity      INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 200),
    state         TEXT    NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'cancelled', 'closed')),
    created_at    TEXT    NOT NULL
);
CREATE INDEX classes_village ON classes (village_code, starts_at);
CREATE INDEX classes_trainer ON classes (trainer_id, starts_at);

CREATE TABLE bookings (
    id             INTEGER PRIMARY KEY,
    class_id       INTEGER NOT NULL REFERENCES classes (id),
    user_id        INTEGER REFERENCES users (id),   -- who booked; NULL for a walk-in without Telegram
    attendee_name  TEXT,                            -- a relative or walk-in; NULL: the booker
    age_group      TEXT    NOT NULL CHECK (age_group IN ('under30', '30to59', '60plus')),
    state          TEXT    NOT NULL CHECK (state IN ('booked', 'waiting', 'offered', 'cancelled', 'declined')),
    offered_until  TEXT,
    attendance     TEXT CHECK (attendance IN ('present', 'absent')),
    walk_in        INTEGER NOT NULL DEFAULT 0,
    created_at     TEXT    NOT NULL,
    source_key     TEXT UNIQUE
);
CREATE INDEX bookings_class ON bookings (class_id, state, id);
CREATE INDEX bookings_user ON bookings (user_id, state);
