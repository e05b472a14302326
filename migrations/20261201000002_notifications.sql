-- Notifications: each person's channels, and an outbox of notices. A notice is claimed by inserting its row
-- (unique per event and channel) before anything is sent, so a certificate crossing a threshold yields exactly one
-- notice per channel however many replicas, restarts or retries there are; the sender retries unsent rows.

CREATE TABLE notification_settings (
    user_id             uuid PRIMARY KEY REFERENCES users (id),
    email_enabled       boolean NOT NULL DEFAULT true,
    webhook_url         text CHECK (length(webhook_url) <= 2048),
    -- The webhook's HMAC signing secret, made by certdesk, sealed (AES-256-GCM) under encryption.active.
    webhook_secret      bytea,
    webhook_secret_nonce bytea,
    webhook_secret_key_id text,
    updated_at          timestamptz NOT NULL,
    CHECK ((webhook_secret IS NULL) = (webhook_secret_nonce IS NULL)),
    CHECK ((webhook_secret IS NULL) = (webhook_secret_key_id IS NULL))
);

CREATE TABLE notifications (
    id              uuid PRIMARY KEY,
    -- What happened, once: 'expiry:<certificate>:<days>', 'revoked:<certificate>', 'digest:<date>:<admin>', …
    event_key       text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'webhook')),
    kind            text NOT NULL
                    CHECK (kind IN ('expiry', 'revoked', 'renewal_succeeded', 'renewal_failed', 'digest')),
    user_id         uuid NOT NULL REFERENCES users (id),
    certificate_id  uuid REFERENCES certificates (id),
    -- Expiry notices: the threshold crossed (days before notAfter).
    threshold_days  integer,
    -- The notice itself (also the webhook body's `data`).
    payload         jsonb NOT NULL,
    -- pending → sent | failed (gave up) | skipped (superseded by a tighter threshold, or the channel was switched
    -- off before it was sent).
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    created_at      timestamptz NOT NULL,
    sent_at         timestamptz,
    UNIQUE (event_key, channel)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX notifications_certificate ON notifications (certificate_id, threshold_days);
