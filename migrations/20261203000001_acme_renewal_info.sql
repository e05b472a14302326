-- ACME renewal information (ARI, RFC 9773): the renewal window the CA suggests for a certificate, and when to ask
-- again (the CA's Retry-After). The renewal point (`renew_at`) is placed inside the window; CAs without ARI keep
-- the lifetime share.
ALTER TABLE certificates
    ADD COLUMN ari_window_start    timestamptz,
    ADD COLUMN ari_window_end      timestamptz,
    ADD COLUMN ari_explanation_url text,
    ADD COLUMN ari_next_check      timestamptz;

CREATE INDEX certificates_ari_due ON certificates (ari_next_check) WHERE status = 'issued' AND auto_renew;
