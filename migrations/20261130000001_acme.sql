-- Public certificates over ACME: the account per issuer (its key sealed like every other secret at rest), each
-- certificate request's order as a persisted state machine (so any replica can resume it after a restart), and
-- the challenge answers any replica must be able to serve.

CREATE TABLE acme_accounts (
    issuer_id             text PRIMARY KEY,
    -- The directory the account lives on; a different directory in the configuration means a new account.
    directory_url         text NOT NULL,
    account_url           text NOT NULL,
    -- instant-acme's AccountCredentials (JSON, holding the account's private key), sealed.
    encrypted_credentials bytea NOT NULL,
    credentials_key_id    text NOT NULL,
    credentials_nonce     bytea NOT NULL,
    created_at            timestamptz NOT NULL
);

CREATE TABLE acme_orders (
    certificate_id  uuid PRIMARY KEY REFERENCES certificates (id) ON DELETE CASCADE,
    issuer_id       text NOT NULL,
    -- NULL until the CA accepted the new order; a crash before that creates a new one.
    order_url       text,
    -- certdesk's view of the order: RFC 8555 order states, plus 'new' (not yet sent) and 'failed' (certdesk
    -- gave up: deadline passed, or the CA's answer was unusable).
    state           text NOT NULL CHECK (state IN ('new', 'pending', 'ready', 'processing', 'valid', 'invalid', 'failed')),
    -- One entry per identifier: {identifier, challenge, status, detail}; what the progress view shows.
    authorizations  jsonb NOT NULL DEFAULT '[]',
    -- The CA's problem document (or certdesk's own reason) once the order failed.
    problem         jsonb,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    deadline        timestamptz NOT NULL,
    -- A lease: the replica driving the order now; an expired lease means its driver died.
    leased_by       text,
    leased_until    timestamptz,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE INDEX acme_orders_due ON acme_orders (next_attempt_at) WHERE state NOT IN ('valid', 'invalid', 'failed');

CREATE TABLE acme_challenges (
    id                uuid PRIMARY KEY,
    certificate_id    uuid NOT NULL REFERENCES certificates (id) ON DELETE CASCADE,
    identifier        text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('http-01', 'dns-01')),
    -- http-01: the token in the URL; dns-01: NULL.
    token             text,
    -- http-01: the body to answer; dns-01: the TXT value.
    response          text NOT NULL,
    -- dns-01: where the TXT record was published.
    dns_record        text,
    dns_server        text,
    created_at        timestamptz NOT NULL,
    -- Set once the record was taken down (HTTP-01 rows are deleted instead).
    removed_at        timestamptz
);

CREATE UNIQUE INDEX acme_challenges_token ON acme_challenges (token) WHERE token IS NOT NULL;
CREATE INDEX acme_challenges_certificate ON acme_challenges (certificate_id);
