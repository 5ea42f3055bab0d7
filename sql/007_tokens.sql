-- 007_tokens: API tokens for automation, kept as sessions of their own kind:
-- long-lived, named, scoped (read or write), exempt from idle expiry.

ALTER TABLE sessions
    ADD COLUMN kind  smallint NOT NULL DEFAULT 1 CHECK (kind IN (1, 2)),  -- 1 login, 2 API token
    ADD COLUMN scope smallint NOT NULL DEFAULT 2 CHECK (scope IN (1, 2)), -- 1 read, 2 write
    ADD COLUMN name  text CHECK (length(name) BETWEEN 1 AND 100),
    ADD CONSTRAINT sessions_token_named CHECK (kind = 1 OR name IS NOT NULL);
CREATE INDEX sessions_user_kind ON sessions (org_id, user_id, kind);

-- As in 006, plus: API tokens do not expire when idle, and a read token may
-- only make requests that change nothing (p_write false). mentord refuses
-- those before any work (it learns the scope from md_session_resume); this
-- is the same rule where the data is.
DROP FUNCTION md_request_begin(bigint, bigint, int, boolean, int);
CREATE FUNCTION md_request_begin(p_org bigint, p_session bigint, p_min_role int, p_operator boolean,
                                 p_idle_seconds int, p_write boolean)
RETURNS TABLE (user_id bigint, role smallint, is_operator boolean, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_user bigint;
    v_role smallint;
    v_op boolean;
    v_exp timestamptz;
    v_seen timestamptz;
    v_kind smallint;
    v_scope smallint;
BEGIN
    PERFORM set_config('app.org_id', p_org::text, true);
    SELECT u.id, u.role, u.is_operator, s.expires_at, s.last_seen_at, s.kind, s.scope
      INTO v_user, v_role, v_op, v_exp, v_seen, v_kind, v_scope
      FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
     WHERE s.org_id = p_org AND s.id = p_session
       AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active
       AND (s.kind = 2 OR s.last_seen_at > now() - make_interval(secs => p_idle_seconds));
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'session expired or revoked' USING ERRCODE = 'MDA01';
    END IF;
    IF v_seen < now() - least(interval '1 minute', make_interval(secs => p_idle_seconds / 2.0)) THEN
        UPDATE sessions s SET last_seen_at = now() WHERE s.org_id = p_org AND s.id = p_session;
    END IF;
    PERFORM set_config('app.user_id', v_user::text, true);
    PERFORM set_config('app.session_kind', v_kind::text, true);
    IF p_write AND v_scope = 1 THEN
        RAISE EXCEPTION 'this API token may only read' USING ERRCODE = 'MDA03';
    END IF;
    IF p_operator AND NOT v_op THEN
        RAISE EXCEPTION 'only the server operator may do this' USING ERRCODE = 'MDA03';
    END IF;
    IF v_role < p_min_role THEN
        RAISE EXCEPTION 'your role may not do this' USING ERRCODE = 'MDA03';
    END IF;
    RETURN QUERY SELECT v_user, v_role, v_op, v_exp;
END
$$;

DROP FUNCTION md_session_resume(bytea, int);
CREATE FUNCTION md_session_resume(p_token_hash bytea, p_idle_seconds int)
RETURNS TABLE (org_id bigint, session_id bigint, user_id bigint, expires_at timestamptz,
               scope smallint)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE sessions s SET last_seen_at = now()
      FROM users u
     WHERE u.org_id = s.org_id AND u.id = s.user_id AND u.active
       AND s.token_hash = p_token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
       AND (s.kind = 2 OR s.last_seen_at > now() - make_interval(secs => p_idle_seconds))
    RETURNING s.org_id, s.id, s.user_id, s.expires_at, s.scope
$$;

REVOKE EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean, int, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_session_resume(bytea, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean, int, boolean) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_session_resume(bytea, int) TO mentord_app;
