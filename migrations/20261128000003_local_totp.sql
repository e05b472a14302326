-- certdesk-managed TOTP second factor, for identity providers that cannot assert MFA (auth.local_totp).
-- The secret is sealed with AES-256-GCM (see server/src/sealing.rs); the key id names the key-encryption key.

CREATE TABLE local_totp (
    user_id           uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_key_id     text NOT NULL,
    secret_nonce      bytea NOT NULL,
    secret_ciphertext bytea NOT NULL,
    created_at        timestamptz NOT NULL,
    -- NULL until the person has typed a first valid code; until then the enrolment can be restarted.
    confirmed_at      timestamptz,
    -- RFC 6238 time step of the last accepted code: a code is accepted only for a later step (no replay).
    last_used_step    bigint NOT NULL DEFAULT 0,
    failed_attempts   integer NOT NULL DEFAULT 0,
    locked_until      timestamptz
);

-- One-time recovery codes, stored as SHA-256 of the code (the codes carry 80 random bits).
CREATE TABLE local_totp_recovery_codes (
    user_id   uuid NOT NULL REFERENCES local_totp (user_id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);
