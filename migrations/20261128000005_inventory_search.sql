-- Substring search over names, serials and fingerprints stays fast with many certificates: a trigram index
-- serves `search_text LIKE '%…%'`. pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may
-- create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX certificates_search ON certificates USING gin (search_text gin_trgm_ops);
CREATE INDEX audit_events_object_recent ON audit_events (object, seq DESC) WHERE object <> '';
