-- Automatic renewal, chosen per certificate at request time, and the link between a certificate and the one that
-- renewed it (the old one keeps its row with status 'superseded').

ALTER TABLE certificates
    ADD COLUMN auto_renew              boolean NOT NULL DEFAULT false,
    -- Renew when this share of the lifetime (percent) remains; NULL = one third, as cert-manager does.
    ADD COLUMN renew_remaining_percent smallint CHECK (renew_remaining_percent BETWEEN 1 AND 99),
    -- Or this many days before expiry; wins over the share when both could apply.
    ADD COLUMN renew_before_days       integer CHECK (renew_before_days >= 1),
    -- Renew with the same key (a CSR's certificate always does: certdesk never had its key).
    ADD COLUMN reuse_key               boolean NOT NULL DEFAULT false,
    -- The renewal point, computed when the certificate is issued from the settings above and its real lifetime.
    ADD COLUMN renew_at                timestamptz,
    -- Failed renewal attempts in a row, when the next may start (capped backoff), and why the last one failed.
    ADD COLUMN renewal_attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN renewal_retry_at        timestamptz,
    ADD COLUMN renewal_last_error      text,
    -- The certificate this one renews.
    ADD COLUMN renewed_from            uuid REFERENCES certificates (id);

-- At most one renewal per certificate, in flight or done: a double submit, two replicas and a retry racing the
-- button all end in one new certificate. Failed attempts do not count, so a retry can follow them.
CREATE UNIQUE INDEX certificates_one_renewal ON certificates (renewed_from)
    WHERE renewed_from IS NOT NULL AND status <> 'failed';
-- What the renewal job scans.
CREATE INDEX certificates_renewal_due ON certificates (renew_at) WHERE status = 'issued' AND auto_renew;
