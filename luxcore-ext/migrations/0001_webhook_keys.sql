-- luxcore-ext webhook processing (PostgresStore). Applied by `luxcore_ext::webhooks::migrate`,
-- or by your own migration tool. Idempotent.
--
-- One row per de-duplication key: `payment:<id>`, `event:<id>` or `body:<sha256 hex>`.
--   applied_version   highest version applied (0 = processed, for non-payment keys)
--   claim_token       the delivery holding the key, until claim_expires_at (the lease)
--   expires_at        when an event/body key may be purged (payment keys: NULL, kept)
CREATE TABLE IF NOT EXISTS luxcore_webhook_keys (
    key              text        PRIMARY KEY,
    applied_version  bigint,
    claim_token      text,
    claim_expires_at timestamptz,
    expires_at       timestamptz
);

CREATE INDEX IF NOT EXISTS luxcore_webhook_keys_expires_at
    ON luxcore_webhook_keys (expires_at) WHERE expires_at IS NOT NULL;
