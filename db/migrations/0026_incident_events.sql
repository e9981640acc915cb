-- What happened to an incident and when: the history a resident reads in /myreports.
CREATE TABLE incident_events (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id),
    at           TEXT    NOT NULL,
    event        TEXT    NOT NULL
                 CHECK (event IN ('opened', 'taken', 'in_progress', 'resolved', 'reopened', 'escalated', 'withdrawn')),
    actor_id     INTEGER,
    resolution   TEXT
);
CREATE INDEX incident_events_incident ON incident_events (incident_id, at, id);

INSERT INTO incident_events (incident_id, at, event)
    SELECT id, opened_at, 'opened' FROM incidents;
INSERT INTO incident_events (incident_id, at, event, actor_id)
    SELECT id, taken_at, 'taken', taken_by FROM incidents WHERE taken_at IS NOT NULL;
INSERT INTO incident_events (incident_id, at, event, actor_id, resolution)
    SELECT id, resolved_at, 'resolved', resolved_by, resolution FROM incidents WHERE resolved_at IS NOT NULL;
INSERT INTO incident_events (incident_id, at, event)
    SELECT id, reopened_at, 'reopened' FROM incidents WHERE reopened_at IS NOT NULL;
INSERT INTO incident_events (incident_id, at, event)
    SELECT id, escalated_at, 'escalated' FROM incidents WHERE escalated_at IS NOT NULL;
