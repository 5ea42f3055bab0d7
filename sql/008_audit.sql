-- 008_audit: an append-only log of what admins and coordinators change:
-- who, when, which request, which object, and the row before and after.
-- Statement-level triggers on the tenant tables write it, so no handler can
-- forget to; the runtime role may read and add entries, never change or
-- remove them.

CREATE TABLE audit_log (
    org_id      bigint NOT NULL REFERENCES orgs(id),
    id          bigint NOT NULL DEFAULT nextval('md_ids'),
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    bigint NOT NULL,
    action      text NOT NULL,   -- the request kind, e.g. user_update
    object_kind text NOT NULL,   -- user, program, program_coordinator, participant
    object_id   bigint NOT NULL,
    before      jsonb,           -- NULL when created
    after       jsonb,           -- NULL when removed
    PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_log_at ON audit_log (org_id, at);
CREATE INDEX audit_log_actor ON audit_log (org_id, actor_id, at);

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_log USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());
GRANT SELECT, INSERT ON audit_log TO mentord_app;

-- Starting a request, as in 001, plus: login sessions expire when unused
-- for p_idle_seconds (006) and using one moves that mark (at most once a
-- minute, or half the idle time if shorter, to spare writes); API tokens
-- (007) do not expire when idle, and a read token may only make requests
-- that change nothing (p_write false; mentord refuses those before any
-- work, this is the same rule where the data is); and the request kind
-- and the caller's role are kept in the transaction's settings for the
-- audit triggers below.
DROP FUNCTION md_request_begin(bigint, bigint, int, boolean);
CREATE FUNCTION md_request_begin(p_org bigint, p_session bigint, p_min_role int, p_operator boolean,
                                 p_idle_seconds int, p_write boolean, p_action text)
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
    PERFORM set_config('app.role', v_role::text, true);
    PERFORM set_config('app.action', p_action, true);
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
REVOKE EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean, int, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_request_begin(bigint, bigint, int, boolean, int, boolean, text) TO mentord_app;

-- Whether the change being made is an admin's or a coordinator's, made in
-- a request (the bootstrap and migrations are not). Rows of another
-- organization (the operator creating one) are not logged: the policy
-- keeps each organization's log to itself.
CREATE FUNCTION md_audited() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(NULLIF(current_setting('app.role', true), '')::int >= 2, false)
$$;

-- The row as the log keeps it: secrets and the packed profile (which holds
-- self-identified attributes) left out, with a note of what changed in them
-- (has_password; profile_digest, an MD5 of the packed profile that tells
-- whether it changed without revealing it).
CREATE FUNCTION md_audit_row(p_kind text, p_row jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_kind
           WHEN 'user' THEN p_row - 'password_hash'
                            || jsonb_build_object('has_password', p_row->>'password_hash' IS NOT NULL)
           WHEN 'participant' THEN p_row - 'profile_pb'
                            || jsonb_build_object('profile_digest', md5(p_row->>'profile_pb'))
           ELSE p_row END
$$;

CREATE FUNCTION md_audit_trigger() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_kind text := TG_ARGV[0];
    v_key text := TG_ARGV[1];  -- the column naming the object
BEGIN
    IF NOT md_audited() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (org_id, actor_id, action, object_kind, object_id, before, after)
        SELECT n.org_id, current_setting('app.user_id')::bigint, current_setting('app.action'),
               v_kind, (n.j->>v_key)::bigint, NULL, md_audit_row(v_kind, n.j)
          FROM (SELECT x.org_id, to_jsonb(x) AS j FROM new_rows x) n
         WHERE n.org_id = md_current_org();
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (org_id, actor_id, action, object_kind, object_id, before, after)
        SELECT o.org_id, current_setting('app.user_id')::bigint, current_setting('app.action'),
               v_kind, (to_jsonb(o)->>v_key)::bigint, md_audit_row(v_kind, to_jsonb(o)), NULL
          FROM old_rows o WHERE o.org_id = md_current_org();
    ELSE
        -- Old and new rows paired by their key (in a statement, each row is
        -- updated at most once) with an equality a hash join can use: a
        -- 10,000-row statement must not compare every pair. Rows that did
        -- not change (as the log shows them) are left out.
        INSERT INTO audit_log (org_id, actor_id, action, object_kind, object_id, before, after)
        SELECT n.org_id, current_setting('app.user_id')::bigint, current_setting('app.action'),
               v_kind, n.k, o.r, n.r
          FROM (SELECT (y.j->>'org_id')::bigint AS org_id, md_audit_row(v_kind, y.j) AS r,
                       (y.j->>v_key)::bigint AS k,
                       (y.j->>v_key) || '/' || coalesce(y.j->>'program_id', '') AS pk
                  FROM (SELECT to_jsonb(x) AS j FROM new_rows x) y) n
          JOIN (SELECT md_audit_row(v_kind, y.j) AS r,
                       (y.j->>v_key) || '/' || coalesce(y.j->>'program_id', '') AS pk
                  FROM (SELECT to_jsonb(x) AS j FROM old_rows x) y) o ON o.pk = n.pk
         WHERE n.org_id = md_current_org() AND o.r <> n.r;
    END IF;
    RETURN NULL;
END
$$;

-- Transition tables carry no statistics: never a nested loop over them.
ALTER FUNCTION md_audit_trigger() SET enable_nestloop = off;

CREATE TRIGGER audit_users_ins AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('user', 'id');
CREATE TRIGGER audit_users_upd AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('user', 'id');
CREATE TRIGGER audit_programs_ins AFTER INSERT ON programs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('program', 'id');
CREATE TRIGGER audit_programs_upd AFTER UPDATE ON programs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('program', 'id');
CREATE TRIGGER audit_coordinators_ins AFTER INSERT ON program_coordinators
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('program_coordinator', 'program_id');
CREATE TRIGGER audit_coordinators_del AFTER DELETE ON program_coordinators
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('program_coordinator', 'program_id');
CREATE TRIGGER audit_participants_ins AFTER INSERT ON participants REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('participant', 'user_id');
CREATE TRIGGER audit_participants_upd AFTER UPDATE ON participants
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('participant', 'user_id');
