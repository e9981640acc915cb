-- The open HTTP API: client systems, their keys, the reports they filed, and signed event webhooks.

-- A system that talks to the API (an akimat's case system, an operator's ticketing).
CREATE TABLE api_clients (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    salt        TEXT    NOT NULL,                   -- keys the hashes that tell its residents apart
    created_at  TEXT    NOT NULL
);

-- Keys are shown once when created; only the SHA-256 of the token is kept.
CREATE TABLE api_keys (
    id            INTEGER PRIMARY KEY,
    client_id     INTEGER NOT NULL REFERENCES api_clients (id),
    token_hash    TEXT    NOT NULL UNIQUE,          -- hex SHA-256 of the whole token
    prefix        TEXT    NOT NULL,                 -- the token's first characters, to tell keys apart
    scope         TEXT    NOT NULL CHECK (scope IN ('read', 'write')),
    area          TEXT    NOT NULL DEFAULT '',      -- KATO prefix the key may file reports for; '' everywhere
    per_minute    INTEGER CHECK (per_minute > 0),   -- its own rate limit; NULL: AUYLNET_API_KEY_PER_MINUTE
    created_at    TEXT    NOT NULL,
    revoked_at    TEXT,
    last_used_at  TEXT
);
CREATE INDEX api_keys_client ON api_keys (client_id);

-- Reports need an account (reports.user_id). A report filed through the API belongs to a system
-- account of the client: one per resident the client tells apart (Open311 account_id, device_id,
-- email or phone, kept only as a keyed hash), or the client's own when it names none. Their ids
-- lie at or below -2^53, beyond any Telegram chat id (Telegram ids have at most 52 significant
-- bits), and their users rows are marked blocked, so nothing is ever sent to them.
CREATE TABLE api_reporters (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id),
    client_id     INTEGER NOT NULL REFERENCES api_clients (id),
    reporter_key  TEXT    NOT NULL,                 -- '' the client itself; otherwise a keyed hash
    created_at    TEXT    NOT NULL,
    UNIQUE (client_id, reporter_key),
    CHECK (user_id <= -9007199254740992)
);

-- Reports that came through the API: which client and key, whether the reporter agreed to
-- publish the description, and the token the answer can also be fetched by.
-- Reports filed in Telegram have no row here: their descriptions are never public.
CREATE TABLE api_reports (
    report_id            INTEGER PRIMARY KEY REFERENCES reports (id),
    client_id            INTEGER NOT NULL REFERENCES api_clients (id),
    key_id               INTEGER NOT NULL REFERENCES api_keys (id),
    publish_description  INTEGER NOT NULL DEFAULT 0 CHECK (publish_description IN (0, 1)),
    token                TEXT    NOT NULL UNIQUE,
    created_at           TEXT    NOT NULL
);

-- Open311 GET requests filters by date (requested_datetime) and service (kind), newest first.
CREATE INDEX api_reports_by_time ON reports (created_at, id);
CREATE INDEX api_reports_by_kind ON reports (kind, created_at, id);

-- Where events are POSTed. The secret signs each body (HMAC-SHA256); it is shown once when added.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT    NOT NULL,
    events      TEXT    NOT NULL,                   -- comma-separated event kinds
    secret      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    removed_at  TEXT
);

-- What happened, once; delivered to every webhook that subscribed when it happened.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,               -- also the event's sequence: later is larger
    event_id     TEXT    NOT NULL UNIQUE,           -- receivers drop duplicates by it
    kind         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,                  -- 'village:556069100', 'incident:12', 'class:3'
    payload      TEXT    NOT NULL,                  -- JSON
    occurred_at  TEXT    NOT NULL
);

-- One row per (event, webhook): the persistent queue the delivery worker drains, in order per
-- webhook and subject, retrying with back-off until the receiver answers 2xx.
CREATE TABLE event_deliveries (
    id            INTEGER PRIMARY KEY,
    webhook_id    INTEGER NOT NULL REFERENCES webhooks (id),
    event_id      INTEGER NOT NULL REFERENCES events (id),
    subject       TEXT    NOT NULL,                 -- copied from the event: the unit of ordering
    state         TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dropped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  TEXT    NOT NULL,
    sent_at       TEXT,
    last_error    TEXT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX event_deliveries_pending ON event_deliveries (webhook_id, subject, id) WHERE state = 'pending';
CREATE INDEX event_deliveries_sent ON event_deliveries (sent_at) WHERE state = 'sent';
