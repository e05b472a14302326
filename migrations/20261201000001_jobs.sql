-- Background jobs run by one elected replica (the holder of a PostgreSQL advisory lock): one row per run, so
-- admins can see what ran where and how it went, and a new leader knows when each job last started.

CREATE TABLE job_runs (
    id          bigserial PRIMARY KEY,
    job         text NOT NULL CHECK (length(job) BETWEEN 1 AND 64),
    -- `[jobs] replica` of the process that ran it (default: hostname and pid).
    replica     text NOT NULL CHECK (length(replica) BETWEEN 1 AND 128),
    started_at  timestamptz NOT NULL,
    -- NULL while running; a run cut short by a crash is closed as a failure by the next leader.
    finished_at timestamptz,
    outcome     text CHECK (outcome IN ('success', 'failure')),
    detail      text NOT NULL DEFAULT '',
    CHECK ((finished_at IS NULL) = (outcome IS NULL))
);

-- The last run of each job (scheduling after a takeover, readiness) and pruning by age.
CREATE INDEX job_runs_job_started ON job_runs (job, started_at DESC);
CREATE INDEX job_runs_started ON job_runs (started_at);
