-- Personal API tokens for automation. Only a SHA-256 of the token is stored (tokens are 256-bit random, so a
-- fast hash is enough); the prefix lets people recognise a token in lists without revealing it.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    owner_id     uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    scope        text NOT NULL CHECK (scope IN ('read', 'read_write')),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    CHECK (expires_at > created_at)
);
CREATE INDEX api_tokens_owner ON api_tokens (owner_id, created_at DESC);
