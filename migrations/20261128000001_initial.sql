-- Initial schema: people, certificates, the audit log and web sessions.

-- Identity is (issuer, subject) as asserted by the OpenID provider, never the e-mail address, which can change
-- owner.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    issuer        text NOT NULL,
    subject       text NOT NULL,
    display_name  text NOT NULL DEFAULT '',
    email         text,
    role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'auditor', 'admin')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    UNIQUE (issuer, subject)
);

CREATE TABLE certificates (
    id                    uuid PRIMARY KEY,
    owner_id              uuid NOT NULL REFERENCES users (id),
    issuer_id             text NOT NULL,
    status                text NOT NULL CHECK (status IN ('pending', 'issued', 'failed', 'revoked', 'superseded')),
    common_name           text NOT NULL,
    dns_names             text[] NOT NULL DEFAULT '{}',
    key_algorithm         text NOT NULL,
    serial                text,
    not_before            timestamptz,
    not_after             timestamptz,
    fingerprint_sha256    text,
    leaf_pem              text,
    chain_pem             text,
    -- Server-generated keys only, AES-256-GCM under the key-encryption key named by key_encryption_key_id.
    encrypted_private_key bytea,
    key_encryption_key_id text,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    UNIQUE (issuer_id, serial),
    CHECK ((encrypted_private_key IS NULL) = (key_encryption_key_id IS NULL))
);
CREATE INDEX certificates_owner_recent ON certificates (owner_id, created_at DESC, id DESC);
CREATE INDEX certificates_recent ON certificates (created_at DESC, id DESC);
CREATE INDEX certificates_issued_expiry ON certificates (not_after) WHERE status = 'issued';

-- The audit log. seq is assigned by the writer under the chain head's row lock, so it is gapless and in commit
-- order; each event carries the seal of its predecessor (prev_hash) and its own (hash, HMAC-SHA256).
CREATE TABLE audit_events (
    seq         bigint PRIMARY KEY CHECK (seq > 0),
    occurred_at timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    object      text NOT NULL DEFAULT '',
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
    request_id  text NOT NULL DEFAULT '',
    client_addr text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash        bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_object ON audit_events (object, seq) WHERE object <> '';

-- The chain head: the last event's number and seal. Writers lock this row, which serialises appends; the verifier
-- compares it with the last event, so deleting events at the end of the log is detected too.
CREATE TABLE audit_chain_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      bytea NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_chain_head (singleton, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change();

-- Web sessions for tower-sessions (the layout tower-sessions-sqlx-store expects), created here so that every
-- schema change goes through the same forward-only migrations.
CREATE SCHEMA tower_sessions;
CREATE TABLE tower_sessions.session (
    id          text PRIMARY KEY NOT NULL,
    data        bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX session_expiry ON tower_sessions.session (expiry_date);
