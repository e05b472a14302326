-- Revocation and CRL publication. OpenBao keeps no revocation reasons, so certdesk keeps them (and who revoked);
-- the CRLs certdesk serves are stored here so that every replica serves the same bytes, and the last good CRL
-- survives an issuer outage.

ALTER TABLE certificates
    ADD COLUMN revoked_at        timestamptz,
    -- RFC 5280 reason names; NULL when certdesk learnt of the revocation from the issuer's CRL without one.
    ADD COLUMN revocation_reason text CHECK (revocation_reason IN
        ('unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation')),
    -- NULL when the revocation was found on the issuer's CRL (made outside certdesk, or a crash before recording).
    ADD COLUMN revoked_by        uuid REFERENCES users (id),
    ADD CONSTRAINT certificates_revocation_complete CHECK ((status = 'revoked') = (revoked_at IS NOT NULL));

-- Serials on a freshly fetched CRL are matched against the inventory.
CREATE INDEX certificates_issuer_serial ON certificates (issuer_id, serial) WHERE serial IS NOT NULL;

CREATE TABLE crls (
    -- The issuer id ('private'), or 'root' for the offline root's CRL.
    name         text PRIMARY KEY,
    -- Decimal without leading zeros, so (length, text) orders numbers; it may exceed 64 bits (RFC 5280 §5.2.3).
    crl_number   text NOT NULL CHECK (crl_number ~ '^(0|[1-9][0-9]*)$'),
    this_update  timestamptz NOT NULL,
    next_update  timestamptz,
    entry_count  integer NOT NULL CHECK (entry_count >= 0),
    der          bytea NOT NULL,
    -- The CA certificate whose key signed it (verified before storing).
    signer_der   bytea NOT NULL,
    -- Hex SHA-256 of der: the ETag.
    sha256       text NOT NULL,
    -- When this CRL was first stored, and when its source was last seen to still serve it.
    stored_at    timestamptz NOT NULL,
    confirmed_at timestamptz NOT NULL
);
