-- The audit viewer filters by action (exact, or a prefix such as `certificate.`) and by outcome, newest first.
-- text_pattern_ops serves both `action = $1` and `action LIKE 'prefix%'`; seq lets an exact action walk the index
-- in page order. Failures and refusals are rare and are what auditors look for: a partial index keeps them cheap.
CREATE INDEX audit_events_action ON audit_events (action text_pattern_ops, seq);
CREATE INDEX audit_events_unsuccessful ON audit_events (outcome, seq) WHERE outcome <> 'success';
