-- Per-person certificate quotas (issue 14): a request made by the renewal job, not by a person, is not counted
-- against its owner's daily quota (the renewal floor bounds how often it happens).
ALTER TABLE certificates ADD COLUMN automatic_renewal boolean NOT NULL DEFAULT false;
