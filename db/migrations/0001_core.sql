-- People who have written to the bot, their roles, invites and the audit trail.
CREATE TABLE users (
    id                 INTEGER PRIMARY KEY,          -- Telegram user id
    first_name         TEXT    NOT NULL,
    last_name          TEXT,
    username           TEXT,
    telegram_language  TEXT,                         -- language_code Telegram reported
    language           TEXT CHECK (language IN ('kk', 'ru')),  -- NULL until the user chooses
    first_seen         TEXT    NOT NULL,             -- ISO 8601, UTC
    last_seen          TEXT    NOT NULL,
    blocked            INTEGER NOT NULL DEFAULT 0    -- 1 once Telegram says the user blocked us
);

-- Roles beyond "resident". scope is a KATO code prefix: '' everywhere, '55' a region,
-- '5536' a district.
CREATE TABLE roles (
    user_id     INTEGER NOT NULL REFERENCES users (id),
    role        TEXT    NOT NULL CHECK (role IN ('trainer', 'staff', 'admin')),
    scope       TEXT    NOT NULL DEFAULT '',
    granted_by  INTEGER,
    granted_at  TEXT    NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);

CREATE TABLE invites (
    code        TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('trainer', 'staff', 'admin')),
    scope       TEXT NOT NULL DEFAULT '',
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT,
    revoked     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT    NOT NULL,
    actor_id    INTEGER,                             -- NULL: the command line
    subject     TEXT    NOT NULL,                    -- e.g. 'user:123', 'installation:7'
    action      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '{}'        -- JSON: old and new values
);
CREATE INDEX audit_log_subject ON audit_log (subject);

-- Conversation states (PTB persistence), so a half-finished flow survives a restart.
CREATE TABLE conversations (
    name   TEXT NOT NULL,
    key    TEXT NOT NULL,                            -- JSON array of chat/user ids
    state  TEXT NOT NULL,                            -- JSON
    PRIMARY KEY (name, key)
);

-- Drafts of multi-step flows (a report being filled in), JSON per user and flow.
CREATE TABLE drafts (
    user_id  INTEGER NOT NULL,
    flow     TEXT    NOT NULL,
    data     TEXT    NOT NULL,
    updated  TEXT    NOT NULL,
    PRIMARY KEY (user_id, flow)
);

-- Updates whose effect is committed: a redelivered update finds its id here and changes nothing.
CREATE TABLE handled_updates (
    update_id   INTEGER PRIMARY KEY,
    handled_at  TEXT NOT NULL
);
