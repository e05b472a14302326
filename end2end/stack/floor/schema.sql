-- The smallest tables that can hold what issuance and an ACME flow must write durably: no search index, no
-- triggers, no foreign keys, short rows. certdesk's real tables cost more to write; this is a floor, not a model.
DROP TABLE IF EXISTS floor_certificates, floor_orders, floor_authorizations, floor_challenges, floor_nonces,
    floor_audit_events, floor_audit_head;
CREATE TABLE floor_certificates (id bigint PRIMARY KEY, owner_id int NOT NULL, status text NOT NULL, csr_pem text,
    leaf_pem text, created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX ON floor_certificates (owner_id, created_at);
CREATE TABLE floor_orders (id bigint PRIMARY KEY, account_id int NOT NULL, status text NOT NULL,
    certificate_id bigint, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE floor_authorizations (id bigint PRIMARY KEY, order_id bigint NOT NULL, status text NOT NULL);
CREATE TABLE floor_challenges (id bigint PRIMARY KEY, authorization_id bigint NOT NULL, status text NOT NULL);
CREATE TABLE floor_nonces (nonce text PRIMARY KEY, expires_at timestamptz NOT NULL);
-- The audit chain as certdesk keeps it: each event linked to the previous one under a lock on the chain's head.
CREATE TABLE floor_audit_events (seq bigint PRIMARY KEY, occurred_at timestamptz NOT NULL DEFAULT now(),
    action text NOT NULL, details jsonb NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL);
CREATE TABLE floor_audit_head (singleton boolean PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO floor_audit_head VALUES (true, 0, '\x00');
