-- 006_sessions: sessions that expire when idle (checked by
-- md_request_begin and md_session_resume, as defined in 007 and 008), and
-- login throttling per source address besides the one per account.

ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

-- Failed logins per source address (a hash of it: addresses are personal
-- data), whatever the account. Not a tenant table: reached only through
-- the definer functions below.
CREATE TABLE login_address_failures (
    address_key bytea NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_address_failures_key ON login_address_failures (address_key, at);

CREATE FUNCTION md_address_key(p_address text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to('address' || E'\n' || p_address, 'UTF8'))
$$;

-- Login, step 1, as in 001 but with delays that grow instead of a fixed
-- window: failures counts the account's failures of the last day, and from
-- the fifth on, retry_after is the time left until a wait of 15 seconds,
-- doubling with each further failure up to about an hour, has passed since
-- the last one (0: no wait). Plus the failures from the caller's address
-- within 15 minutes, and when the oldest of them stops counting.
DROP FUNCTION md_login_lookup(text, text);
CREATE FUNCTION md_login_lookup(p_slug text, p_email text, p_address text)
RETURNS TABLE (org_id bigint, user_id bigint, password_hash text, failures int, retry_after int,
               address_failures int, address_retry_after int)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH f AS (
        SELECT count(*)::int AS n, max(at) AS last
          FROM login_failures
         WHERE account_key = md_account_key(p_slug, p_email) AND at > now() - interval '1 day'
    ), a AS (
        SELECT count(*)::int AS n, min(at) AS oldest
          FROM login_address_failures
         WHERE address_key = md_address_key(p_address) AND at > now() - interval '15 minutes'
    )
    SELECT u.org_id, u.id, u.password_hash, f.n,
           CASE WHEN f.n >= 5 THEN GREATEST(0, ceil(extract(epoch FROM
                    f.last + interval '15 seconds' * (2 ^ least(f.n - 5, 8)) - now())))::int
                ELSE 0 END,
           a.n,
           GREATEST(1, ceil(extract(epoch FROM a.oldest + interval '15 minutes' - now())))::int
      FROM f CROSS JOIN a
      LEFT JOIN orgs o ON o.slug = lower(p_slug)
      LEFT JOIN users u ON u.org_id = o.id AND u.email = lower(p_email) AND u.active
                       AND u.password_hash IS NOT NULL
$$;

-- Login, step 2, as in 001; a failure also counts against the address.
DROP FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int);
CREATE FUNCTION md_login_finish(p_slug text, p_email text, p_org bigint, p_user bigint,
                                p_ok boolean, p_token_hash bytea, p_ttl_seconds int,
                                p_address text)
RETURNS TABLE (session_id bigint, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NOT p_ok THEN
        INSERT INTO login_failures (account_key) VALUES (md_account_key(p_slug, p_email));
        INSERT INTO login_address_failures (address_key) VALUES (md_address_key(p_address));
        DELETE FROM login_failures WHERE at < now() - interval '1 day';
        DELETE FROM login_address_failures WHERE at < now() - interval '1 day';
        RETURN;
    END IF;
    DELETE FROM login_failures WHERE account_key = md_account_key(p_slug, p_email);
    RETURN QUERY
        INSERT INTO sessions (org_id, user_id, token_hash, expires_at)
        SELECT u.org_id, u.id, p_token_hash, now() + make_interval(secs => p_ttl_seconds)
          FROM users u WHERE u.org_id = p_org AND u.id = p_user AND u.active
        RETURNING sessions.id, sessions.expires_at;
END
$$;

REVOKE EXECUTE ON FUNCTION md_login_lookup(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_login_lookup(text, text, text) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int, text) TO mentord_app;
