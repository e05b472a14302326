-- Trust hardening (issue 14): private keys only to whom they belong, off-boarding that ends everything.

-- A token reaches private keys only when it was created for that; its scope never implies it.
ALTER TABLE api_tokens ADD COLUMN private_keys boolean NOT NULL DEFAULT false;

-- An off-boarded person: no session, no token and no sign-in is honoured until the provider signs them in again
-- with a membership that still grants access (which clears it).
ALTER TABLE users ADD COLUMN disabled_at timestamptz;
-- Sessions that began before this instant are ended at their next request (off-boarding, "sign out everywhere").
ALTER TABLE users ADD COLUMN sessions_valid_after timestamptz;
