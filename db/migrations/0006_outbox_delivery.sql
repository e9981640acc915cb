-- Delivery bookkeeping for the outbox worker.

-- The Telegram message a sent row produced (or edited): lets an admin find what a user saw.
ALTER TABLE outbox ADD COLUMN message_id INTEGER;

-- The worker looks for the oldest pending row of each chat; scanning pending rows in id order
-- stops after the batch it needs instead of sorting every due row.
CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';

-- queue_health counts what was sent in the last hour without walking the whole history.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE state = 'sent';
