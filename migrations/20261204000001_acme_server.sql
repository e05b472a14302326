-- certdesk as an ACME server (issue 17, part 1): people's ACME account keys (External Account Binding
-- credentials), the ACME accounts bound to them, and the anti-replay nonces. All of it lives here so that any
-- replica answers any request.

-- A person's ACME account key: the EAB key id and HMAC key they paste into cert-manager, certbot or lego. The HMAC
-- key is sealed (AES-256-GCM, see `sealing`) under `hmac_key_key_id`, bound to the row's id.
CREATE TABLE acme_account_keys (
    id                  uuid PRIMARY KEY,
    owner_id            uuid NOT NULL REFERENCES users (id),
    name                text NOT NULL,
    -- The EAB `kid` clients send; shown with the HMAC key once, then only listed.
    key_id              text NOT NULL UNIQUE,
    hmac_key_ciphertext bytea NOT NULL,
    hmac_key_key_id     text NOT NULL,
    hmac_key_nonce      bytea NOT NULL,
    -- Names (or `*.suffix` patterns) the accounts bound to this key may order; empty: whatever the owner may.
    allowed_names       text[] NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    last_used_at        timestamptz,
    revoked_at          timestamptz
);
CREATE INDEX acme_account_keys_owner ON acme_account_keys (owner_id, created_at DESC);

-- An ACME account on one issuer's directory, known by its public key's RFC 7638 thumbprint.
CREATE TABLE acme_server_accounts (
    id              uuid PRIMARY KEY,
    issuer_id       text NOT NULL,
    jwk_thumbprint  text NOT NULL,
    jwk             jsonb NOT NULL,
    status          text NOT NULL CHECK (status IN ('valid', 'deactivated')),
    contact         text[] NOT NULL DEFAULT '{}',
    -- NULL only on an issuer that does not require External Account Binding.
    account_key_id  uuid REFERENCES acme_account_keys (id),
    owner_id        uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    UNIQUE (issuer_id, jwk_thumbprint),
    CHECK ((account_key_id IS NULL) = (owner_id IS NULL))
);
CREATE INDEX acme_server_accounts_owner ON acme_server_accounts (owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX acme_server_accounts_key ON acme_server_accounts (account_key_id) WHERE account_key_id IS NOT NULL;

-- Nonces handed out in `Replay-Nonce`; each is deleted by the request that uses it, and the expired ones by the
-- `acme_nonces` job.
CREATE TABLE acme_server_nonces (
    nonce       text PRIMARY KEY,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX acme_server_nonces_expiry ON acme_server_nonces (expires_at);
