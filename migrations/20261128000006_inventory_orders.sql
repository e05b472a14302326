-- The inventory's other orders (soonest expiry, name) walk these indexes instead of sorting.
CREATE INDEX certificates_by_expiry ON certificates (not_after, id) WHERE not_after IS NOT NULL;
CREATE INDEX certificates_by_name ON certificates (common_name, id);
