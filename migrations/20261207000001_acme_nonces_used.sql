-- From this release on, ACME nonces are made without the database (a MAC under a key every replica derives) and
-- this table holds the nonces that were used, one row each (its primary key is what makes a nonce single-use
-- across replicas), until they expire and the `acme_nonces` job deletes them. The rows of the old scheme (nonces
-- handed out, not yet used) can never match a nonce of the new form; they expire and are swept like the others.
COMMENT ON TABLE acme_server_nonces IS
    'ACME nonces already used (one row each, kept until the nonce expires); nonces themselves are MACed, not stored';
