-- 010_directory_managers: a directory import that gives existing users
-- their employee ids and names their managers by those same new ids now
-- records the managers. The manager of a row is looked up in the file
-- first, then among the users; before, only users who already had the
-- employee id were found.

CREATE OR REPLACE FUNCTION md_directory_apply(p_import text, p_skip boolean, p_dry boolean,
                                   p_new_emails text[], p_code_hashes bytea[])
RETURNS TABLE (kind text, row_no int, col text, message text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_org bigint := md_current_org();
    v_me bigint := md_caller();
    v_bad int;
    v_created int := 0;
    v_updated int := 0;
    v_unchanged int := 0;
    v_deactivated int := 0;
    v_leave int := 0;
BEGIN
    PERFORM md_directory_analyze();

    -- Each staged row with the users it refers to, as things stand now.
    CREATE TEMP TABLE IF NOT EXISTS md_dir_refs (
        row_no int PRIMARY KEY, by_employee bigint, by_email bigint, email_employee text,
        manager_known boolean, user_id bigint
    ) ON COMMIT DROP;
    DELETE FROM md_dir_refs;
    INSERT INTO md_dir_refs
    SELECT d.row_no, e.id, m.id, m.employee_id,
           d.manager_employee_id = '' OR f.row_no IS NOT NULL OR g.id IS NOT NULL,
           coalesce(e.id, m.id)
      FROM directory_rows d
      LEFT JOIN LATERAL (SELECT x.id FROM users x
                          WHERE x.org_id = v_org AND x.employee_id = d.employee_id LIMIT 1) e ON true
      LEFT JOIN LATERAL (SELECT x.id, x.employee_id FROM users x
                          WHERE x.org_id = v_org AND x.email = d.email LIMIT 1) m ON true
      LEFT JOIN LATERAL (SELECT j.row_no FROM directory_rows j
                          WHERE j.org_id = v_org AND j.import_id = p_import
                            AND j.employee_id = d.manager_employee_id LIMIT 1) f ON true
      LEFT JOIN LATERAL (SELECT x.id FROM users x
                          WHERE x.org_id = v_org AND x.employee_id = d.manager_employee_id
                          LIMIT 1) g ON true
     WHERE d.org_id = v_org AND d.import_id = p_import;
    ANALYZE md_dir_refs;

    CREATE TEMP TABLE IF NOT EXISTS md_dir_issues (row_no int, col text, message text) ON COMMIT DROP;
    DELETE FROM md_dir_issues;
    INSERT INTO md_dir_issues
    SELECT d.row_no, d.issue_column, d.issue_message FROM directory_rows d
     WHERE d.org_id = v_org AND d.import_id = p_import AND d.issue_message IS NOT NULL;
    INSERT INTO md_dir_issues
    SELECT w.row_no, 'employee_id', format('duplicate employee id %s (first in row %s)', w.employee_id, w.first_row)
      FROM (SELECT d.row_no, d.employee_id, min(d.row_no) OVER (PARTITION BY d.employee_id) AS first_row
              FROM directory_rows d WHERE d.org_id = v_org AND d.import_id = p_import) w
     WHERE w.row_no > w.first_row;
    INSERT INTO md_dir_issues
    SELECT w.row_no, 'email', format('duplicate e-mail %s (first in row %s)', w.email, w.first_row)
      FROM (SELECT d.row_no, d.email, min(d.row_no) OVER (PARTITION BY d.email) AS first_row
              FROM directory_rows d WHERE d.org_id = v_org AND d.import_id = p_import) w
     WHERE w.row_no > w.first_row;
    INSERT INTO md_dir_issues
    SELECT d.row_no, 'email', format('%s is the e-mail of another user', d.email)
      FROM directory_rows d JOIN md_dir_refs r ON r.row_no = d.row_no
     WHERE d.org_id = v_org AND d.import_id = p_import AND r.by_employee <> r.by_email;
    INSERT INTO md_dir_issues
    SELECT d.row_no, 'employee_id', format('the user %s has employee id %s', d.email, r.email_employee)
      FROM directory_rows d JOIN md_dir_refs r ON r.row_no = d.row_no
     WHERE d.org_id = v_org AND d.import_id = p_import AND r.by_employee IS NULL
       AND r.email_employee <> d.employee_id;
    INSERT INTO md_dir_issues
    SELECT d.row_no, 'manager_employee_id',
           format('no employee %s in this file or the directory', d.manager_employee_id)
      FROM directory_rows d JOIN md_dir_refs r ON r.row_no = d.row_no
     WHERE d.org_id = v_org AND d.import_id = p_import AND NOT r.manager_known;
    INSERT INTO md_dir_issues
    SELECT d.row_no, 'manager_employee_id', 'an employee cannot be their own manager'
      FROM directory_rows d
     WHERE d.org_id = v_org AND d.import_id = p_import AND d.manager_employee_id <> ''
       AND d.manager_employee_id = d.employee_id;
    INSERT INTO md_dir_issues
    SELECT d.row_no, 'status', 'you cannot terminate your own account'
      FROM directory_rows d JOIN md_dir_refs r ON r.row_no = d.row_no
     WHERE d.org_id = v_org AND d.import_id = p_import AND d.employment = 3
       AND coalesce(r.by_employee, r.by_email) = v_me;

    -- Reporting lines that loop: the graph is the file's rows plus the
    -- directory's other employees; from every row of the file, walk up the
    -- managers (at most 100 levels) and see whether the walk comes back.
    CREATE TEMP TABLE IF NOT EXISTS md_dir_graph (employee text PRIMARY KEY, manager text,
                                                  row_no int) ON COMMIT DROP;
    DELETE FROM md_dir_graph;
    INSERT INTO md_dir_graph
    SELECT DISTINCT ON (d.employee_id) d.employee_id, d.manager_employee_id, d.row_no
      FROM directory_rows d WHERE d.org_id = v_org AND d.import_id = p_import
     ORDER BY d.employee_id, d.row_no;
    INSERT INTO md_dir_graph
    SELECT u.employee_id, coalesce(m.employee_id, ''), NULL
      FROM users u
      LEFT JOIN LATERAL (SELECT x.employee_id FROM users x
                          WHERE x.org_id = v_org AND x.id = u.manager_id LIMIT 1) m ON true
     WHERE u.org_id = v_org AND u.employee_id IS NOT NULL
    ON CONFLICT DO NOTHING;
    ANALYZE md_dir_graph;
    INSERT INTO md_dir_issues
    WITH RECURSIVE walk(start_row, start_employee, cur, depth) AS (
        SELECT g.row_no, g.employee, g.manager, 1 FROM md_dir_graph g
         WHERE g.row_no IS NOT NULL AND g.manager <> '' AND g.manager <> g.employee
        UNION ALL
        SELECT w.start_row, w.start_employee, g.manager, w.depth + 1
          FROM walk w JOIN md_dir_graph g ON g.employee = w.cur
         WHERE w.cur <> w.start_employee AND g.manager <> '' AND w.depth < 100
    )
    SELECT DISTINCT w.start_row, 'manager_employee_id',
           format('the reporting line of %s loops back to them', w.start_employee)
      FROM walk w WHERE w.cur = w.start_employee;

    SELECT count(DISTINCT x.row_no) INTO v_bad FROM md_dir_issues x;
    RETURN QUERY SELECT 'issue'::text, x.row_no, x.col, x.message, 0::bigint FROM md_dir_issues x
                  ORDER BY x.row_no, x.col;
    IF v_bad > 0 AND NOT p_skip THEN
        DELETE FROM directory_rows d WHERE d.org_id = v_org AND d.import_id = p_import;
        RETURN QUERY SELECT 'count'::text, 0, 'applied'::text, ''::text, 0::bigint;
        RETURN;
    END IF;
    DELETE FROM md_dir_refs r USING md_dir_issues x WHERE x.row_no = r.row_no;

    BEGIN -- a subtransaction, rolled back at the end of a dry run

    -- New users (never for terminated rows), with their invitations.
    CREATE TEMP TABLE IF NOT EXISTS md_dir_new (row_no int PRIMARY KEY, email text UNIQUE,
                                                code_hash bytea, user_id bigint) ON COMMIT DROP;
    DELETE FROM md_dir_new;
    INSERT INTO md_dir_new
    SELECT d.row_no, d.email, h.code_hash, NULL
      FROM directory_rows d
      JOIN md_dir_refs r ON r.row_no = d.row_no
      JOIN unnest(p_new_emails, p_code_hashes) AS h(email, code_hash) ON h.email = d.email
     WHERE d.org_id = v_org AND d.import_id = p_import AND r.by_employee IS NULL
       AND r.by_email IS NULL AND d.employment <> 3;
    WITH created AS (
        INSERT INTO users (org_id, email, display_name, role, employee_id, department, title,
                           employment)
        SELECT v_org, d.email, coalesce(nullif(d.display_name, ''), split_part(d.email, '@', 1)),
               1, d.employee_id, d.department, d.title, d.employment
          FROM md_dir_new w
          JOIN directory_rows d ON d.org_id = v_org AND d.import_id = p_import AND d.row_no = w.row_no
        RETURNING id, email
    ), invited AS (
        INSERT INTO invites (org_id, user_id, code_hash, created_by, expires_at)
        SELECT v_org, c.id, w.code_hash, v_me, now() + interval '7 days'
          FROM created c JOIN md_dir_new w ON w.email = c.email
    )
    UPDATE md_dir_new w SET user_id = c.id FROM created c WHERE c.email = w.email;
    UPDATE md_dir_refs r SET user_id = w.user_id FROM md_dir_new w WHERE w.row_no = r.row_no;
    SELECT count(*) INTO v_created FROM md_dir_new;
    RETURN QUERY SELECT 'created'::text, 0, w.email, ''::text, 0::bigint FROM md_dir_new w;

    -- What each valid row changes (managers are found now that every
    -- employee of the file exists).
    CREATE TEMP TABLE IF NOT EXISTS md_dir_plan (
        row_no int PRIMARY KEY, user_id bigint, email text, display_name text, department text,
        title text, employee_id text, manager_id bigint, employment smallint, active boolean,
        what text, deactivate boolean, to_leave boolean
    ) ON COMMIT DROP;
    DELETE FROM md_dir_plan;
    INSERT INTO md_dir_plan
    SELECT d.row_no, u.id, d.email, coalesce(nullif(d.display_name, ''), u.display_name),
           d.department, d.title, d.employee_id, mg.id, d.employment,
           CASE WHEN d.employment = 3 THEN false WHEN u.employment = 3 THEN true ELSE u.active END,
           CASE WHEN w.row_no IS NOT NULL THEN 'created' ELSE 'update' END,
           u.active AND d.employment = 3,
           d.employment = 2 AND (u.employment <> 2 OR w.row_no IS NOT NULL)
      FROM directory_rows d
      JOIN md_dir_refs r ON r.row_no = d.row_no
      LEFT JOIN md_dir_new w ON w.row_no = d.row_no
      CROSS JOIN LATERAL (SELECT x.id, x.display_name, x.active, x.employment FROM users x
                           WHERE x.org_id = v_org
                             AND x.id = r.user_id LIMIT 1) u
      -- The manager as the file names them (an existing user may get their
      -- employee id in this very file), else as the directory knows them.
      LEFT JOIN LATERAL (SELECT coalesce(
                                  (SELECT r2.user_id FROM directory_rows d2
                                     JOIN md_dir_refs r2 ON r2.row_no = d2.row_no
                                    WHERE d2.org_id = v_org AND d2.import_id = p_import
                                      AND d.manager_employee_id <> ''
                                      AND d2.employee_id = d.manager_employee_id
                                      AND r2.user_id IS NOT NULL LIMIT 1),
                                  (SELECT x.id FROM users x
                                    WHERE x.org_id = v_org AND d.manager_employee_id <> ''
                                      AND x.employee_id = d.manager_employee_id LIMIT 1)) AS id) mg ON true
     WHERE d.org_id = v_org AND d.import_id = p_import;
    -- Rows that change nothing.
    UPDATE md_dir_plan p SET what = 'same'
      FROM users u
     WHERE u.org_id = v_org AND u.id = p.user_id AND p.what = 'update'
       AND u.email = p.email AND u.display_name = p.display_name
       AND u.department = p.department AND u.title = p.title
       AND u.employee_id IS NOT DISTINCT FROM p.employee_id
       AND u.manager_id IS NOT DISTINCT FROM p.manager_id
       AND u.employment = p.employment AND u.active = p.active;
    SELECT count(*) FILTER (WHERE p.what = 'update'), count(*) FILTER (WHERE p.what = 'same'),
           count(*) FILTER (WHERE p.deactivate), count(*) FILTER (WHERE p.to_leave)
      INTO v_updated, v_unchanged, v_deactivated, v_leave FROM md_dir_plan p;
    -- Terminated rows of people who were never users: nothing to do.
    v_unchanged := v_unchanged + (SELECT count(*) FROM md_dir_refs) - (SELECT count(*) FROM md_dir_plan);

    UPDATE users u
       SET email = p.email, display_name = p.display_name, department = p.department,
           title = p.title, employee_id = p.employee_id, manager_id = p.manager_id,
           employment = p.employment, active = p.active
      FROM md_dir_plan p
     WHERE u.org_id = v_org AND u.id = p.user_id AND p.what <> 'same';
    -- Leaving the organization ends every session and enrollment.
    UPDATE sessions s SET revoked_at = now()
      FROM md_dir_plan p
     WHERE p.deactivate AND s.org_id = v_org AND s.user_id = p.user_id AND s.revoked_at IS NULL;
    UPDATE participants pa SET status = 'withdrawn', withdrawn_at = now(), updated_at = now()
      FROM md_dir_plan p
     WHERE p.deactivate AND pa.org_id = v_org AND pa.user_id = p.user_id AND pa.status = 'active';
    RETURN QUERY SELECT 'deactivated'::text, 0, ''::text, ''::text, p.user_id
                   FROM md_dir_plan p WHERE p.deactivate;

    IF p_dry THEN
        RAISE EXCEPTION 'dry run' USING ERRCODE = 'MDA98';
    END IF;
    EXCEPTION WHEN SQLSTATE 'MDA98' THEN
        NULL; -- the dry run's changes are gone; its counters remain
    END;

    DELETE FROM directory_rows d
     WHERE d.org_id = v_org AND (d.import_id = p_import OR d.created_at < now() - interval '1 day');
    RETURN QUERY VALUES ('count'::text, 0, 'applied'::text, ''::text, (NOT p_dry)::int::bigint),
                        ('count', 0, 'users_created', '', v_created),
                        ('count', 0, 'updated', '', v_updated),
                        ('count', 0, 'unchanged', '', v_unchanged),
                        ('count', 0, 'deactivated', '', v_deactivated),
                        ('count', 0, 'on_leave', '', v_leave),
                        ('count', 0, 'skipped', '', v_bad);
END
$$;
