-- 007_tokens: API tokens for automation, kept as sessions of their own kind:
-- long-lived, named, scoped (read or write), exempt from idle expiry.

ALTER TABLE sessions
    ADD COLUMN kind  smallint NOT NULL DEFAULT 1 CHECK (kind IN (1, 2)),  -- 1 login, 2 API token
    ADD COLUMN scope smallint NOT NULL DEFAULT 2 CHECK (scope IN (1, 2)), -- 1 read, 2 write
    ADD COLUMN name  text CHECK (length(name) BETWEEN 1 AND 100),
    ADD CONSTRAINT sessions_token_named CHECK (kind = 1 OR name IS NOT NULL);
CREATE INDEX sessions_user_kind ON sessions (org_id, user_id, kind);

-- Resuming a session or token: as in 001, plus idle expiry for login
-- sessions (006) and the session's scope for mentord.
DROP FUNCTION md_session_resume(bytea);
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

REVOKE EXECUTE ON FUNCTION md_session_resume(bytea, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_session_resume(bytea, int) TO mentord_app;
