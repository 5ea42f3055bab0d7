-- 004_imports: bulk import of participants. Batches of rows are staged in
-- import_rows under a client-chosen import id; the finishing request checks
-- the whole file and applies it in one transaction (md_import_apply), then
-- the staged rows are removed. Stale unfinished imports are swept after a day.

CREATE TABLE import_rows (
    org_id        bigint NOT NULL REFERENCES orgs(id),
    import_id     text NOT NULL CHECK (import_id ~ '^[A-Za-z0-9_-]{8,64}$'),
    program_id    bigint NOT NULL,
    row_no        int NOT NULL,
    email         text NOT NULL,
    display_name  text NOT NULL,
    role          smallint NOT NULL,
    profile_pb    bytea NOT NULL,
    manager_email text NOT NULL DEFAULT '',
    department    text NOT NULL DEFAULT '',
    time_zone     text NOT NULL DEFAULT '',
    capacity      int NOT NULL DEFAULT 0,
    skills        text[] NOT NULL DEFAULT '{}',
    issue_column  text,     -- set when the row failed the per-row checks
    issue_message text,
    created_by    bigint NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, import_id, row_no),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id)
);

CREATE INDEX import_rows_email ON import_rows (org_id, import_id, email);

ALTER TABLE import_rows ENABLE ROW LEVEL SECURITY;
ALTER TABLE import_rows FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON import_rows USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());
GRANT SELECT, INSERT, UPDATE, DELETE ON import_rows TO mentord_app;

-- Staged rows arrive in bulk, faster than autovacuum refreshes the table's
-- statistics; plans made for "one row" would take quadratic time. The
-- runtime role may not ANALYZE a table it does not own, hence the definer.
CREATE FUNCTION md_import_analyze() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    ANALYZE import_rows;
END
$$;
REVOKE EXECUTE ON FUNCTION md_import_analyze() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_import_analyze() TO mentord_app;

-- A PL/pgSQL body is never inlined into the calling query, so a query that
-- checks a few distinct time zones scans the time zone catalog only that
-- many times.
CREATE OR REPLACE FUNCTION md_valid_time_zone(p_tz text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_tz = '' THEN
        RETURN true;
    END IF;
    RETURN EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_tz);
END
$$;

-- Checks the staged file as a whole and, unless it has problems (and
-- p_skip is false) or p_dry is set, applies it. Returns problem rows
-- (kind 'issue'), counters (kind 'count', column = name) and the e-mails of
-- created users (kind 'created'). New users get the invitation code hashes
-- given in p_new_emails / p_code_hashes (chosen by mentord, which keeps the
-- codes themselves off the database).
CREATE FUNCTION md_import_apply(p_import text, p_program bigint, p_skip boolean, p_dry boolean,
                                p_new_emails text[], p_code_hashes bytea[])
RETURNS TABLE (kind text, row_no int, col text, message text, n int)
LANGUAGE plpgsql AS $$
DECLARE
    v_org bigint := md_current_org();
    v_bad int;
    v_created int := 0;
    v_enrolled int := 0;
    v_updated int := 0;
    v_unchanged int := 0;
    v_skipped int := 0;
    v_bad_tz text[];
BEGIN
    PERFORM md_program_require_manager(p_program);
    PERFORM md_program_require_open(p_program);
    PERFORM md_import_analyze();

    CREATE TEMP TABLE IF NOT EXISTS md_import_issues (row_no int, col text, message text) ON COMMIT DROP;
    DELETE FROM md_import_issues;

    -- Problems found per row when the batch arrived.
    INSERT INTO md_import_issues
    SELECT i.row_no, i.issue_column, i.issue_message FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.issue_message IS NOT NULL;
    -- The same e-mail twice in one file. (A window, not a self-join: a
    -- freshly filled staging table has no statistics, and a join planned
    -- for one row would take quadratic time.)
    INSERT INTO md_import_issues
    SELECT d.row_no, 'email', format('duplicate e-mail %s (first in row %s)', d.email, d.first_row)
      FROM (SELECT i.row_no, i.email,
                   min(i.row_no) OVER (PARTITION BY i.email) AS first_row
              FROM import_rows i WHERE i.org_id = v_org AND i.import_id = p_import) d
     WHERE d.row_no > d.first_row;
    -- Deactivated users are not enrolled.
    INSERT INTO md_import_issues
    SELECT i.row_no, 'email', format('%s is a deactivated user', i.email)
      FROM import_rows i JOIN users u ON u.org_id = i.org_id AND u.email = i.email
     WHERE i.org_id = v_org AND i.import_id = p_import AND NOT u.active;
    -- Managers must be users of the organization or rows of the file.
    INSERT INTO md_import_issues
    SELECT i.row_no, 'manager_email', format('manager %s is neither a user nor in this file', i.manager_email)
      FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.manager_email <> ''
       AND NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = v_org AND u.email = i.manager_email)
       AND NOT EXISTS (SELECT 1 FROM import_rows j WHERE j.org_id = v_org
                       AND j.import_id = p_import AND j.email = i.manager_email);
    INSERT INTO md_import_issues
    SELECT i.row_no, 'manager_email', 'a participant cannot be their own manager'
      FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.manager_email = i.email;
    -- Each distinct time zone is looked up once: the catalog is slow to scan.
    SELECT coalesce(array_agg(d.tz), '{}') INTO v_bad_tz
      FROM (SELECT DISTINCT time_zone AS tz FROM import_rows
             WHERE org_id = v_org AND import_id = p_import) d
     WHERE NOT md_valid_time_zone(d.tz);
    INSERT INTO md_import_issues
    SELECT i.row_no, 'time_zone', format('unknown time zone "%s"', i.time_zone)
      FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.time_zone = ANY (v_bad_tz);

    SELECT count(DISTINCT x.row_no) INTO v_bad FROM md_import_issues x;
    RETURN QUERY SELECT 'issue'::text, x.row_no, x.col, x.message, 0 FROM md_import_issues x
                  ORDER BY x.row_no, x.col;
    IF p_dry OR (v_bad > 0 AND NOT p_skip) THEN
        RETURN QUERY SELECT 'count'::text, 0, 'applied'::text, ''::text, 0;
        RETURN;
    END IF;
    v_skipped := v_bad;

    -- The valid rows, with what they change.
    CREATE TEMP TABLE IF NOT EXISTS md_import_valid (row_no int PRIMARY KEY) ON COMMIT DROP;
    DELETE FROM md_import_valid;
    INSERT INTO md_import_valid
    SELECT i.row_no FROM import_rows i WHERE i.org_id = v_org AND i.import_id = p_import
    EXCEPT SELECT x.row_no FROM md_import_issues x;

    -- New users, with their invitations. Staged in a keyed temporary table
    -- so every join below is an index lookup whatever the estimates say.
    CREATE TEMP TABLE IF NOT EXISTS md_import_new (email text PRIMARY KEY, display_name text,
                                                   code_hash bytea) ON COMMIT DROP;
    DELETE FROM md_import_new;
    INSERT INTO md_import_new
    SELECT DISTINCT ON (i.email) i.email, i.display_name, h.code_hash
      FROM unnest(p_new_emails, p_code_hashes) AS h(email, code_hash)
      JOIN import_rows i ON i.org_id = v_org AND i.import_id = p_import AND i.email = h.email
      JOIN md_import_valid v ON v.row_no = i.row_no
     WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = v_org AND u.email = i.email)
     ORDER BY i.email, i.row_no;
    INSERT INTO users (org_id, email, display_name, role)
    SELECT v_org, n.email, n.display_name, 1 FROM md_import_new n;
    INSERT INTO invites (org_id, user_id, code_hash, created_by, expires_at)
    SELECT v_org, u.id, n.code_hash, md_caller(), now() + interval '7 days'
      FROM md_import_new n JOIN users u ON u.org_id = v_org AND u.email = n.email;
    SELECT count(*) INTO v_created FROM md_import_new;
    RETURN QUERY SELECT 'created'::text, 0, n.email, ''::text, 0 FROM md_import_new n;

    -- Classify every valid row against the current enrollment.
    CREATE TEMP TABLE IF NOT EXISTS md_import_plan (row_no int, user_id bigint, manager_id bigint,
                                                    what text) ON COMMIT DROP;
    DELETE FROM md_import_plan;
    INSERT INTO md_import_plan
    SELECT i.row_no, u.id, m.id,
           CASE WHEN p.role IS NULL OR p.status <> 'active' THEN 'enroll'
                WHEN p.role = i.role AND p.profile_pb = i.profile_pb
                     AND p.manager_id IS NOT DISTINCT FROM m.id THEN 'same'
                ELSE 'update' END
      FROM import_rows i
      JOIN md_import_valid v ON v.row_no = i.row_no
      JOIN users u ON u.org_id = i.org_id AND u.email = i.email
      LEFT JOIN users m ON m.org_id = i.org_id AND m.email = NULLIF(i.manager_email, '')
      LEFT JOIN participants p ON p.org_id = i.org_id AND p.program_id = p_program AND p.user_id = u.id
     WHERE i.org_id = v_org AND i.import_id = p_import;
    SELECT count(*) FILTER (WHERE what = 'enroll'), count(*) FILTER (WHERE what = 'update'),
           count(*) FILTER (WHERE what = 'same')
      INTO v_enrolled, v_updated, v_unchanged FROM md_import_plan;

    INSERT INTO participants (org_id, program_id, user_id, role, profile_pb, manager_id,
                              department, time_zone, capacity)
    SELECT v_org, p_program, pl.user_id, i.role, i.profile_pb, pl.manager_id, i.department,
           i.time_zone, i.capacity
      FROM md_import_plan pl
      JOIN import_rows i ON i.org_id = v_org AND i.import_id = p_import AND i.row_no = pl.row_no
     WHERE pl.what <> 'same'
    ON CONFLICT (org_id, program_id, user_id) DO UPDATE
       SET role = EXCLUDED.role, status = 'active', profile_pb = EXCLUDED.profile_pb,
           manager_id = EXCLUDED.manager_id, department = EXCLUDED.department,
           time_zone = EXCLUDED.time_zone, capacity = EXCLUDED.capacity,
           updated_at = now(), withdrawn_at = NULL,
           enrolled_at = CASE WHEN participants.status = 'active' THEN participants.enrolled_at
                              ELSE now() END;
    INSERT INTO skills (org_id, name)
    SELECT DISTINCT v_org, unnest(i.skills)
      FROM import_rows i JOIN md_import_valid v ON v.row_no = i.row_no
     WHERE i.org_id = v_org AND i.import_id = p_import
    ON CONFLICT DO NOTHING;

    DELETE FROM import_rows WHERE org_id = v_org AND (import_id = p_import OR created_at < now() - interval '1 day');
    RETURN QUERY VALUES ('count'::text, 0, 'applied'::text, ''::text, 1),
                        ('count', 0, 'users_created', '', v_created),
                        ('count', 0, 'enrolled', '', v_enrolled),
                        ('count', 0, 'updated', '', v_updated),
                        ('count', 0, 'unchanged', '', v_unchanged),
                        ('count', 0, 'skipped', '', v_skipped);
END
$$;

REVOKE EXECUTE ON FUNCTION md_import_apply(text, bigint, boolean, boolean, text[], bytea[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_import_apply(text, bigint, boolean, boolean, text[], bytea[]) TO mentord_app;
