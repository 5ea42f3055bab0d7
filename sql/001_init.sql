-- 001_init: organizations, users, sessions and invitations, with row-level
-- security from the start.
--
-- Tenant rows are visible only when the per-transaction setting app.org_id
-- names their organization. mentord's runtime role (mentord_app) owns no
-- table and has no BYPASSRLS; it sets app.org_id with set_config(..., true)
-- inside each request's transaction. The few lookups that must cross
-- organizations before anyone is logged in (an org slug at login, a session
-- token, an invitation code) are SECURITY DEFINER functions owned by the
-- migration owner, each returning only what its caller needs.

CREATE FUNCTION md_current_org() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.org_id', true), '')::bigint
$$;

CREATE SEQUENCE md_ids AS bigint START 1000;

CREATE TABLE orgs (
    id          bigint PRIMARY KEY DEFAULT nextval('md_ids'),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{1,39}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    org_id        bigint NOT NULL REFERENCES orgs(id),
    id            bigint NOT NULL DEFAULT nextval('md_ids'),
    email         text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role          smallint NOT NULL CHECK (role BETWEEN 1 AND 3), -- 1 member, 2 coordinator, 3 admin
    password_hash text,                                            -- argon2id encoded; NULL until invite accepted
    active        boolean NOT NULL DEFAULT true,
    is_operator   boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, email)
);

CREATE TABLE sessions (
    org_id      bigint NOT NULL,
    id          bigint NOT NULL DEFAULT nextval('md_ids'),
    user_id     bigint NOT NULL,
    token_hash  bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32), -- SHA-256 of the token
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id)
);
CREATE INDEX sessions_user ON sessions (org_id, user_id);

CREATE TABLE invites (
    org_id      bigint NOT NULL,
    id          bigint NOT NULL DEFAULT nextval('md_ids'),
    user_id     bigint NOT NULL,
    code_hash   bytea NOT NULL UNIQUE CHECK (length(code_hash) = 32),  -- SHA-256 of the code
    created_by  bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id)
);

-- Failed logins, keyed by a hash of (org slug, email) whether or not the
-- account exists, so throttling does not reveal which accounts exist. Not a
-- tenant table: reached only through the functions below.
CREATE TABLE login_failures (
    account_key bytea NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key ON login_failures (account_key, at);

-- Row-level security on every tenant table, forced for the owner too.
ALTER TABLE orgs ENABLE ROW LEVEL SECURITY;
ALTER TABLE orgs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON orgs USING (id = md_current_org()) WITH CHECK (id = md_current_org());

ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON users USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());

ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sessions USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());

ALTER TABLE invites ENABLE ROW LEVEL SECURITY;
ALTER TABLE invites FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON invites USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());

ALTER TABLE login_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE login_failures FORCE ROW LEVEL SECURITY;
-- No policy: the runtime role sees no row; only the definer functions do.

-- Starts an authenticated request: binds the transaction to the caller's
-- organization and checks that the session is still valid, the user active,
-- and their role high enough. Raises MDA01 (unauthenticated) or MDA03
-- (permission denied); mentord maps these to wire status codes.
CREATE FUNCTION md_request_begin(p_org bigint, p_session bigint, p_min_role int, p_operator boolean)
RETURNS TABLE (user_id bigint, role smallint, is_operator boolean, expires_at timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    v_user bigint;
    v_role smallint;
    v_op boolean;
    v_exp timestamptz;
BEGIN
    PERFORM set_config('app.org_id', p_org::text, true);
    SELECT u.id, u.role, u.is_operator, s.expires_at INTO v_user, v_role, v_op, v_exp
      FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
     WHERE s.org_id = p_org AND s.id = p_session
       AND s.revoked_at IS NULL AND s.expires_at > now() AND u.active;
    IF v_user IS NULL THEN
        RAISE EXCEPTION 'session expired or revoked' USING ERRCODE = 'MDA01';
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

CREATE FUNCTION md_account_key(p_slug text, p_email text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(convert_to(lower(p_slug) || E'\n' || lower(p_email), 'UTF8'))
$$;

-- Login, step 1: the stored hash for (org slug, email) if the account exists
-- and is active, plus the recent failure count for that key.
CREATE FUNCTION md_login_lookup(p_slug text, p_email text)
RETURNS TABLE (org_id bigint, user_id bigint, password_hash text, failures int, retry_after int)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH f AS (
        SELECT count(*)::int AS n, min(at) AS oldest
          FROM login_failures
         WHERE account_key = md_account_key(p_slug, p_email) AND at > now() - interval '15 minutes'
    )
    SELECT u.org_id, u.id, u.password_hash, f.n,
           GREATEST(1, ceil(extract(epoch FROM f.oldest + interval '15 minutes' - now())))::int
      FROM f
      LEFT JOIN orgs o ON o.slug = lower(p_slug)
      LEFT JOIN users u ON u.org_id = o.id AND u.email = lower(p_email) AND u.active
                       AND u.password_hash IS NOT NULL
$$;

-- Login, step 2 after the password was checked off the database: record a
-- failure, or clear failures and create the session.
CREATE FUNCTION md_login_finish(p_slug text, p_email text, p_org bigint, p_user bigint,
                                p_ok boolean, p_token_hash bytea, p_ttl_seconds int)
RETURNS TABLE (session_id bigint, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NOT p_ok THEN
        INSERT INTO login_failures (account_key) VALUES (md_account_key(p_slug, p_email));
        DELETE FROM login_failures WHERE at < now() - interval '1 day';
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

-- Resume a session by the SHA-256 of its token.
CREATE FUNCTION md_session_resume(p_token_hash bytea)
RETURNS TABLE (org_id bigint, session_id bigint, user_id bigint, expires_at timestamptz)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    SELECT s.org_id, s.id, s.user_id, s.expires_at
      FROM sessions s JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
     WHERE s.token_hash = p_token_hash AND s.revoked_at IS NULL
       AND s.expires_at > now() AND u.active
$$;

-- Redeem an invitation: set the password, mark the code used and open a
-- session, in one step. Returns no row when the code is unknown, used or
-- expired.
CREATE FUNCTION md_invite_redeem(p_code_hash bytea, p_password_hash text, p_token_hash bytea,
                                 p_ttl_seconds int)
RETURNS TABLE (org_id bigint, session_id bigint, user_id bigint, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_org bigint;
    v_user bigint;
BEGIN
    UPDATE invites i SET used_at = now()
     WHERE i.code_hash = p_code_hash AND i.used_at IS NULL AND i.expires_at > now()
       AND EXISTS (SELECT 1 FROM users u WHERE u.org_id = i.org_id AND u.id = i.user_id AND u.active)
    RETURNING i.org_id, i.user_id INTO v_org, v_user;
    IF v_org IS NULL THEN
        RETURN;
    END IF;
    UPDATE users u SET password_hash = p_password_hash WHERE u.org_id = v_org AND u.id = v_user;
    RETURN QUERY
        INSERT INTO sessions (org_id, user_id, token_hash, expires_at)
        VALUES (v_org, v_user, p_token_hash, now() + make_interval(secs => p_ttl_seconds))
        RETURNING sessions.org_id, sessions.id, sessions.user_id, sessions.expires_at;
END
$$;

-- Operator: every organization with its active user count. The caller's
-- operator flag is checked again here, inside the definer's rights.
CREATE FUNCTION md_org_list()
RETURNS TABLE (id bigint, slug text, name text, created_at timestamptz, user_count int)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = md_current_org()
                   AND u.id = NULLIF(current_setting('app.user_id', true), '')::bigint
                   AND u.is_operator AND u.active) THEN
        RAISE EXCEPTION 'only the server operator may do this' USING ERRCODE = 'MDA03';
    END IF;
    RETURN QUERY
        SELECT o.id, o.slug, o.name, o.created_at,
               (SELECT count(*)::int FROM users u WHERE u.org_id = o.id AND u.active)
          FROM orgs o ORDER BY o.id;
END
$$;

-- Operator (or bootstrap when p_operator is true and no org exists yet):
-- create an organization with its first admin and that admin's invitation.
CREATE FUNCTION md_org_create(p_slug text, p_name text, p_email text, p_display text,
                              p_password_hash text, p_code_hash bytea, p_bootstrap boolean)
RETURNS TABLE (org_id bigint, user_id bigint, created_at timestamptz, invite_expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_org bigint;
    v_user bigint;
    v_created timestamptz;
    v_exp timestamptz;
BEGIN
    IF p_bootstrap THEN
        IF EXISTS (SELECT 1 FROM orgs) THEN
            RAISE EXCEPTION 'the server is already initialized' USING ERRCODE = 'MDA09';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = md_current_org()
                      AND u.id = NULLIF(current_setting('app.user_id', true), '')::bigint
                      AND u.is_operator AND u.active) THEN
        RAISE EXCEPTION 'only the server operator may do this' USING ERRCODE = 'MDA03';
    END IF;
    INSERT INTO orgs (slug, name) VALUES (p_slug, p_name) RETURNING id, orgs.created_at INTO v_org, v_created;
    INSERT INTO users (org_id, email, display_name, role, password_hash, is_operator)
    VALUES (v_org, p_email, p_display, 3, p_password_hash, p_bootstrap) RETURNING id INTO v_user;
    IF p_code_hash IS NOT NULL THEN
        INSERT INTO invites (org_id, user_id, code_hash, expires_at)
        VALUES (v_org, v_user, p_code_hash, now() + interval '7 days') RETURNING expires_at INTO v_exp;
    END IF;
    RETURN QUERY SELECT v_org, v_user, v_created, v_exp;
END
$$;

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON orgs, users, sessions, invites TO mentord_app;
GRANT USAGE ON SEQUENCE md_ids TO mentord_app;
