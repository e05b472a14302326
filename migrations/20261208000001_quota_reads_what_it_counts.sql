-- The quota check (`db::quotas::usage`) reads what it counts and nothing else: the owner's requests of the last 24
-- hours (a range of `certificates_owner_recent`) and their live certificates (a range of this index: issued or
-- pending, not yet expired, or pending without an expiry yet). It used to read every certificate the owner ever had,
-- so an owner whose machines renewed through certdesk for a year paid for each expired certificate on every request.
CREATE INDEX certificates_owner_live ON certificates (owner_id, not_after) WHERE status IN ('issued', 'pending');
