-- One order at a time may replace a certificate (RFC 9773 `replaces`): concurrent newOrders naming the same
-- certificate cannot both pass the check, on any replica; the loser is told alreadyReplaced. An invalid order (failed,
-- deactivated, expired) frees the certificate for another.
CREATE UNIQUE INDEX acme_server_orders_one_replacement ON acme_server_orders (replaces_certificate_id)
    WHERE replaces_certificate_id IS NOT NULL AND status <> 'invalid';
