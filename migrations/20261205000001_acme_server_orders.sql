-- certdesk as an ACME server (issue 17, part 2): orders, their authorizations and challenges, and the link from a
-- certificate to the ACME account that ordered it. All of it in PostgreSQL so that any replica answers any request
-- and finishes any validation or finalization another replica left half-way.

-- An order (RFC 8555 §7.1.3) placed by one account on its issuer's directory.
CREATE TABLE acme_server_orders (
    id                       uuid PRIMARY KEY,
    account_id               uuid NOT NULL REFERENCES acme_server_accounts (id),
    issuer_id                text NOT NULL,
    status                   text NOT NULL CHECK (status IN ('pending', 'ready', 'processing', 'valid', 'invalid')),
    -- DNS names as asked (lower-case ASCII; a wildcard keeps its `*.`), in the order asked.
    identifiers              text[] NOT NULL,
    expires_at               timestamptz NOT NULL,
    -- The certificate this order replaces (`replaces`, RFC 9773), when the client said so, and its identifier as
    -- the client sent it (the order document echoes it).
    replaces_certificate_id  uuid REFERENCES certificates (id),
    replaces                 text,
    -- The CSR of finalize (DER), kept until the certificate is issued so that a retry or another replica can finish.
    csr_der                  bytea,
    certificate_id           uuid REFERENCES certificates (id),
    -- The problem document of an invalid order.
    error                    jsonb,
    -- Finalization: how many attempts at issuance, and when the next may start (also the lease of the one running).
    finalize_attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at          timestamptz,
    created_at               timestamptz NOT NULL,
    updated_at               timestamptz NOT NULL
);
CREATE INDEX acme_server_orders_account ON acme_server_orders (account_id, created_at DESC);
CREATE INDEX acme_server_orders_processing ON acme_server_orders (next_attempt_at) WHERE status = 'processing';

-- One identifier of one order. Authorizations are not shared between orders: each order proves its names afresh.
CREATE TABLE acme_server_authorizations (
    id          uuid PRIMARY KEY,
    order_id    uuid NOT NULL REFERENCES acme_server_orders (id),
    -- The DNS name without a wildcard's `*.`.
    identifier  text NOT NULL,
    wildcard    boolean NOT NULL,
    status      text NOT NULL CHECK (status IN ('pending', 'valid', 'invalid', 'deactivated', 'expired', 'revoked')),
    expires_at  timestamptz NOT NULL,
    UNIQUE (order_id, identifier, wildcard)
);

-- The challenges offered for one authorization; the client answers one of them.
CREATE TABLE acme_server_challenges (
    id                uuid PRIMARY KEY,
    authorization_id  uuid NOT NULL REFERENCES acme_server_authorizations (id),
    kind              text NOT NULL CHECK (kind IN ('http-01', 'dns-01', 'tls-alpn-01')),
    token             text NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'processing', 'valid', 'invalid')),
    validated_at      timestamptz,
    -- The problem document of a failed validation.
    error             jsonb,
    -- Validation: how many attempts, and when the next may start (also the lease of the one running).
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    UNIQUE (authorization_id, kind)
);
CREATE INDEX acme_server_challenges_due ON acme_server_challenges (next_attempt_at) WHERE status = 'processing';

-- The ACME account a certificate was ordered through: the inventory shows "ACME: <account key's name>".
ALTER TABLE certificates ADD COLUMN acme_server_account_id uuid REFERENCES acme_server_accounts (id);
