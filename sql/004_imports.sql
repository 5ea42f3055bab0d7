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
    -- For an enrolled participant, the updated_at of the stored profile the
    -- row was merged with at finish (NULL: nothing was enrolled then).
    seen_updated_at timestamptz,
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

-- Checks the staged file as a whole and, unless it has problems (and
-- p_skip is false), applies it; with p_dry the changes are made in a
-- subtransaction that is then rolled back, so the counters say what would
-- happen. mentord has already merged the staged profiles of enrolled
-- participants with their stored ones (keeping fields the file does not
-- have); p_keep_manager keeps their managers too. Returns problem rows
-- (kind 'issue'), counters (kind 'count', column = name) and the e-mails of
-- created users (kind 'created'). New users get the invitation code hashes
-- given in p_new_emails / p_code_hashes (chosen by mentord, which keeps the
-- codes themselves off the database).
--
-- Tables that were just filled in bulk (this import's rows, or users and
-- participants written by the previous import) have statistics that say
-- "nearly empty" until autovacuum catches up, and a join planned on such
-- estimates can take quadratic time. So every lookup of a user or a
-- participant here is a LATERAL subquery with LIMIT 1, which the planner
-- must run as one index probe per staged row, whatever it estimates.
CREATE FUNCTION md_import_apply(p_import text, p_program bigint, p_skip boolean, p_dry boolean,
                                p_keep_manager boolean, p_new_emails text[], p_code_hashes bytea[],
                                p_merge_rows int[], p_merge_pb bytea[], p_merge_dept text[],
                                p_merge_tz text[], p_merge_cap int[], p_merge_seen timestamptz[])
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
    v_tzs text[];
    v_bad_tz text[];
BEGIN
    PERFORM md_program_require_manager(p_program);
    PERFORM md_program_require_open(p_program);
    PERFORM md_import_analyze();

    -- The profiles mentord merged for participants already enrolled.
    CREATE TEMP TABLE IF NOT EXISTS md_import_merge (row_no int PRIMARY KEY, pb bytea, dept text,
                                                     tz text, cap int, seen timestamptz) ON COMMIT DROP;
    DELETE FROM md_import_merge;
    INSERT INTO md_import_merge
    SELECT * FROM unnest(p_merge_rows, p_merge_pb, p_merge_dept, p_merge_tz, p_merge_cap, p_merge_seen);
    ANALYZE md_import_merge;
    UPDATE import_rows i
       SET profile_pb = m.pb, department = m.dept, time_zone = m.tz, capacity = m.cap,
           seen_updated_at = m.seen
      FROM md_import_merge m
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.row_no = m.row_no;

    -- Each staged row with what it refers to, as things stand now.
    CREATE TEMP TABLE IF NOT EXISTS md_import_refs (
        row_no int PRIMARY KEY, user_id bigint, user_active boolean, manager_known boolean,
        changed boolean
    ) ON COMMIT DROP;
    DELETE FROM md_import_refs;
    INSERT INTO md_import_refs
    SELECT i.row_no, u.id, u.active,
           i.manager_email = '' OR m.id IS NOT NULL OR f.row_no IS NOT NULL,
           p.updated_at IS DISTINCT FROM i.seen_updated_at
      FROM import_rows i
      LEFT JOIN LATERAL (SELECT x.id, x.active FROM users x
                          WHERE x.org_id = v_org AND x.email = i.email LIMIT 1) u ON true
      LEFT JOIN LATERAL (SELECT x.updated_at FROM participants x
                          WHERE x.org_id = v_org AND x.program_id = p_program
                            AND x.user_id = u.id LIMIT 1) p ON true
      LEFT JOIN LATERAL (SELECT x.id FROM users x
                          WHERE x.org_id = v_org AND x.email = i.manager_email LIMIT 1) m ON true
      LEFT JOIN LATERAL (SELECT j.row_no FROM import_rows j
                          WHERE j.org_id = v_org AND j.import_id = p_import
                            AND j.email = i.manager_email LIMIT 1) f ON true
     WHERE i.org_id = v_org AND i.import_id = p_import;
    ANALYZE md_import_refs;

    CREATE TEMP TABLE IF NOT EXISTS md_import_issues (row_no int, col text, message text) ON COMMIT DROP;
    DELETE FROM md_import_issues;
    -- Problems found per row when the batch arrived.
    INSERT INTO md_import_issues
    SELECT i.row_no, i.issue_column, i.issue_message FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.issue_message IS NOT NULL;
    -- The same e-mail twice in one file (a window: no join at all).
    INSERT INTO md_import_issues
    SELECT d.row_no, 'email', format('duplicate e-mail %s (first in row %s)', d.email, d.first_row)
      FROM (SELECT i.row_no, i.email,
                   min(i.row_no) OVER (PARTITION BY i.email) AS first_row
              FROM import_rows i WHERE i.org_id = v_org AND i.import_id = p_import) d
     WHERE d.row_no > d.first_row;
    INSERT INTO md_import_issues
    SELECT i.row_no, 'email', format('%s is a deactivated user', i.email)
      FROM import_rows i JOIN md_import_refs r ON r.row_no = i.row_no
     WHERE i.org_id = v_org AND i.import_id = p_import AND NOT r.user_active;
    INSERT INTO md_import_issues
    SELECT i.row_no, 'manager_email', format('manager %s is neither a user nor in this file', i.manager_email)
      FROM import_rows i JOIN md_import_refs r ON r.row_no = i.row_no
     WHERE i.org_id = v_org AND i.import_id = p_import AND NOT r.manager_known;
    INSERT INTO md_import_issues
    SELECT i.row_no, 'email', 'this participant''s profile changed during the import; import again'
      FROM import_rows i JOIN md_import_refs r ON r.row_no = i.row_no
     WHERE i.org_id = v_org AND i.import_id = p_import AND r.changed AND i.issue_message IS NULL;
    INSERT INTO md_import_issues
    SELECT i.row_no, 'manager_email', 'a participant cannot be their own manager'
      FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.manager_email = i.email;
    -- The time zone catalog is read from files on every scan: it is read
    -- once here, for the file's distinct zones (kept in a variable so no
    -- plan can push the check down to every row).
    SELECT coalesce(array_agg(DISTINCT i.time_zone), '{}') INTO v_tzs
      FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.time_zone <> '';
    SELECT coalesce(array_agg(t.tz), '{}') INTO v_bad_tz
      FROM unnest(v_tzs) AS t(tz)
     WHERE t.tz NOT IN (SELECT z.name FROM pg_timezone_names z);
    INSERT INTO md_import_issues
    SELECT i.row_no, 'time_zone', format('unknown time zone "%s"', i.time_zone)
      FROM import_rows i
     WHERE i.org_id = v_org AND i.import_id = p_import AND i.time_zone = ANY (v_bad_tz);

    SELECT count(DISTINCT x.row_no) INTO v_bad FROM md_import_issues x;
    RETURN QUERY SELECT 'issue'::text, x.row_no, x.col, x.message, 0 FROM md_import_issues x
                  ORDER BY x.row_no, x.col;
    IF v_bad > 0 AND NOT p_skip THEN
        DELETE FROM import_rows i WHERE i.org_id = v_org AND i.import_id = p_import;
        RETURN QUERY SELECT 'count'::text, 0, 'applied'::text, ''::text, 0;
        RETURN;
    END IF;
    v_skipped := v_bad;
    DELETE FROM md_import_refs r USING md_import_issues x WHERE x.row_no = r.row_no;

    BEGIN -- a subtransaction, rolled back at the end of a dry run

    -- New users, with their invitations.
    CREATE TEMP TABLE IF NOT EXISTS md_import_new (email text PRIMARY KEY, display_name text,
                                                   code_hash bytea) ON COMMIT DROP;
    DELETE FROM md_import_new;
    INSERT INTO md_import_new
    SELECT DISTINCT ON (i.email) i.email, i.display_name, h.code_hash
      FROM import_rows i
      JOIN md_import_refs r ON r.row_no = i.row_no
      JOIN unnest(p_new_emails, p_code_hashes) AS h(email, code_hash) ON h.email = i.email
     WHERE i.org_id = v_org AND i.import_id = p_import AND r.user_id IS NULL
     ORDER BY i.email, i.row_no;
    WITH created AS (
        INSERT INTO users (org_id, email, display_name, role)
        SELECT v_org, w.email, w.display_name, 1 FROM md_import_new w
        RETURNING id, email
    )
    INSERT INTO invites (org_id, user_id, code_hash, created_by, expires_at)
    SELECT v_org, c.id, w.code_hash, md_caller(), now() + interval '7 days'
      FROM created c JOIN md_import_new w ON w.email = c.email;
    SELECT count(*) INTO v_created FROM md_import_new;
    RETURN QUERY SELECT 'created'::text, 0, w.email, ''::text, 0 FROM md_import_new w;

    -- Every valid row against its user and current enrollment (users the
    -- import created, managers among them, are found now).
    CREATE TEMP TABLE IF NOT EXISTS md_import_plan (row_no int PRIMARY KEY, user_id bigint,
                                                    manager_id bigint, what text) ON COMMIT DROP;
    DELETE FROM md_import_plan;
    INSERT INTO md_import_plan
    SELECT i.row_no, u.id, k.manager_id,
           CASE WHEN p.role IS NULL OR p.status <> 'active' THEN 'enroll'
                WHEN p.role = i.role AND p.profile_pb = i.profile_pb
                     AND p.manager_id IS NOT DISTINCT FROM k.manager_id THEN 'same'
                ELSE 'update' END
      FROM import_rows i
      JOIN md_import_refs r ON r.row_no = i.row_no
      CROSS JOIN LATERAL (SELECT x.id FROM users x
                           WHERE x.org_id = v_org AND x.email = i.email LIMIT 1) u
      LEFT JOIN LATERAL (SELECT x.id FROM users x
                          WHERE x.org_id = v_org AND x.email = i.manager_email LIMIT 1) m ON true
      LEFT JOIN LATERAL (SELECT x.role, x.status, x.profile_pb, x.manager_id FROM participants x
                          WHERE x.org_id = v_org AND x.program_id = p_program AND x.user_id = u.id
                          LIMIT 1) p ON true
      CROSS JOIN LATERAL (SELECT CASE WHEN p_keep_manager AND p.role IS NOT NULL THEN p.manager_id
                                      ELSE m.id END AS manager_id) k
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
      FROM import_rows i JOIN md_import_refs r ON r.row_no = i.row_no
     WHERE i.org_id = v_org AND i.import_id = p_import
    ON CONFLICT DO NOTHING;

    IF p_dry THEN
        RAISE EXCEPTION 'dry run' USING ERRCODE = 'MDA98';
    END IF;
    EXCEPTION WHEN SQLSTATE 'MDA98' THEN
        NULL; -- the dry run's changes are gone; its counters remain
    END;

    DELETE FROM import_rows i
     WHERE i.org_id = v_org AND (i.import_id = p_import OR i.created_at < now() - interval '1 day');
    RETURN QUERY VALUES ('count'::text, 0, 'applied'::text, ''::text, (NOT p_dry)::int),
                        ('count', 0, 'users_created', '', v_created),
                        ('count', 0, 'enrolled', '', v_enrolled),
                        ('count', 0, 'updated', '', v_updated),
                        ('count', 0, 'unchanged', '', v_unchanged),
                        ('count', 0, 'skipped', '', v_skipped);
END
$$;

REVOKE EXECUTE ON FUNCTION md_import_apply(text, bigint, boolean, boolean, boolean, text[], bytea[], int[], bytea[], text[], text[], int[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_import_apply(text, bigint, boolean, boolean, boolean, text[], bytea[], int[], bytea[], text[], text[], int[], timestamptz[]) TO mentord_app;
