-- 006_sessions: sessions that expire when idle, and login throttling per
-- source address besides the one per account.

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

-- As in 001, plus: the session must have been used within p_idle_seconds,
-- and using it moves that mark (at most once a minute, or half the idle
-- time if that is shorter, to spare writes).
DROP FUNCTION md_request_begin(bigint, bigint, int, boolean);
CREATE FUNCTION md_request_begin(p_org bigint, p_session bigint, p_min_role int, p_operator boolean,
                                 p_idle_seconds int)
RETURNS TABLE (user_id bigint, role smallint, is_operator boolean, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_user bigint;
    v_role smallint;
    v_op boolean;
    v_exp timestamptz;
    v_seen timestamptz;
BEGIN
    PERFORM set_config('app.org_id', p_org::text, true);
    SELECT u.id, u.role, u.is_operator, s.expires_at, s.last_seen_at
      INTO v_user, v_role, v_op, v_exp, v_seen
      FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
     WHERE s.org_id = p_org AND s.id = p_session
       AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active
       AND s.last_seen_at > now() - make_interval(secs => p_idle_seconds);
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'session expired or revoked' USING ERRCODE = 'MDA01';
    END IF;
    IF v_seen < now() - least(interval '1 minute', make_interval(secs => p_idle_seconds / 2.0)) THEN
        UPDATE sessions s SET last_seen_at = now() WHERE s.org_id = p_org AND s.id = p_session;
    END IF;
    PERFORM set_config('app.user_id', v_user::text, true);
    IF p_operator AND NOT v_op THEN
        RAISE EXCEPTION 'only the server operator may do this' USING ERRCODE = 'MDA03';
    END IF;
    IF v_role < p_min_role THEN
        RAISE EXCEPTION 'your role may not do this' USING ERRCODE = 'MDA03';
    END IF;
    RETURN QUERY SELECT v_user, v_role, v_op, v_exp;
END
$$;

DROP FUNCTION md_session_resume(bytea);
CREATE FUNCTION md_session_resume(p_token_hash bytea, p_idle_seconds int)
RETURNS TABLE (org_id bigint, session_id bigint, user_id bigint, expires_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE sessions s SET last_seen_at = now()
      FROM users u
     WHERE u.org_id = s.org_id AND u.id = s.user_id AND u.active
       AND s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
       AND s.last_seen_at > now() - make_interval(secs => p_idle_seconds)
    RETURNING s.org_id, s.id, s.user_id, s.expires_at
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

REVOKE EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_session_resume(bytea, int) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_login_lookup(text, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean, int) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_session_resume(bytea, int) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_login_lookup(text, text, text) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_login_finish(text, text, bigint, bigint, boolean, bytea, int, text) TO mentord_app;
