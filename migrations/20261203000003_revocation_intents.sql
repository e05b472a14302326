-- Revocations are recorded before the CA is told (issue 14): an intent row and its audit event commit first, the
-- outcome completes it after. A crash in between leaves an open intent whose claim runs out, and the
-- `revocations` job tells the CA again (revoking twice is harmless) or rolls it back. Bulk revocation and
-- off-boarding queue one intent per certificate in a batch that a background worker carries out, so progress is
-- read from here instead of waiting on one long HTTP request.

CREATE TABLE revocation_batches (
    id           uuid PRIMARY KEY,
    requested_by uuid NOT NULL REFERENCES users (id),
    reason       text NOT NULL,
    -- The person off-boarded, when the batch is an off-boarding.
    offboarded   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL
);

CREATE TABLE revocation_intents (
    id             bigserial PRIMARY KEY,
    certificate_id uuid NOT NULL REFERENCES certificates (id),
    batch_id       uuid REFERENCES revocation_batches (id),
    reason         text NOT NULL,
    requested_by   uuid NOT NULL REFERENCES users (id),
    requested_at   timestamptz NOT NULL,
    -- Whoever works on it (the request, the batch worker, the job) holds it until then; a claim that ran out was
    -- left by a crash and is taken over.
    claimed_until  timestamptz,
    attempts       integer NOT NULL DEFAULT 0,
    finished_at    timestamptz,
    outcome        text CHECK (outcome IN ('revoked', 'already_revoked', 'failed')),
    -- Why it failed, in words for the person who asked.
    message        text,
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);

-- One revocation in flight per certificate: a double submit or two admins racing tell the CA once.
CREATE UNIQUE INDEX revocation_intents_one_open ON revocation_intents (certificate_id) WHERE finished_at IS NULL;
CREATE INDEX revocation_intents_batch ON revocation_intents (batch_id, id) WHERE batch_id IS NOT NULL;
CREATE INDEX revocation_intents_open ON revocation_intents (id) WHERE finished_at IS NULL;
