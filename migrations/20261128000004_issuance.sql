-- Issuance: the groups policy is evaluated against, and everything a certificate request carries from the intent
-- (written before the issuer is called) to the issued certificate.

-- Refreshed at every sign-in from the provider's groups claim; issuance policy is written in groups.
ALTER TABLE users ADD COLUMN groups text[] NOT NULL DEFAULT '{}';

ALTER TABLE certificates
    ADD COLUMN ip_addresses      text[] NOT NULL DEFAULT '{}',
    -- 'server': certdesk made the key (sealed below); 'csr': the requester holds it.
    ADD COLUMN key_source        text NOT NULL DEFAULT 'server' CHECK (key_source IN ('server', 'csr')),
    ADD COLUMN private_key_nonce bytea,
    ADD COLUMN csr_pem           text,
    ADD COLUMN client_auth       boolean NOT NULL DEFAULT false,
    ADD COLUMN validity_days     integer NOT NULL DEFAULT 0,
    ADD COLUMN policy_rule       text,
    -- Same key from the same owner = the same request (double submit, client retry).
    ADD COLUMN idempotency_key   text,
    ADD COLUMN request_hash      bytea,
    ADD COLUMN root_pem          text,
    ADD COLUMN facts             jsonb,
    ADD COLUMN failure           text,
    -- Lower-case names, serial and fingerprint, for the inventory search.
    ADD COLUMN search_text       text NOT NULL DEFAULT '',
    ADD CONSTRAINT certificates_sealed_key_complete
        CHECK ((encrypted_private_key IS NULL) = (private_key_nonce IS NULL));

CREATE UNIQUE INDEX certificates_idempotency ON certificates (owner_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX certificates_pending ON certificates (created_at) WHERE status = 'pending';
