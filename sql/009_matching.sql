-- 009_matching: match runs, proposals, pairs, preferences, exclusions, the
-- inbox of notifications, and the queue that wakes the background
-- recalculation.
--
-- A proposal (match_proposals) is open while its status is 1 (proposed).
-- It becomes a pair (pairs) once it is approved (by an admin or one of the
-- program's coordinators; a pin or a mentee's self-match request counts as
-- approved) and accepted by the mentee and the mentor. Open proposals that
-- nobody has acted on are replaced by the next run; the others are "kept".
-- Every decision is checked here, where the data is: capacity in
-- particular is counted under a lock on the mentor's participant row, so
-- two instances accepting at the same moment cannot overfill a mentor.

ALTER TABLE programs
    ADD COLUMN mentors_per_mentee int NOT NULL DEFAULT 1 CHECK (mentors_per_mentee BETWEEN 1 AND 3),
    ADD COLUMN objective smallint NOT NULL DEFAULT 1 CHECK (objective IN (1, 2)),
    ADD COLUMN match_mode smallint NOT NULL DEFAULT 1 CHECK (match_mode IN (1, 2)),
    ADD COLUMN response_window_days int NOT NULL DEFAULT 3 CHECK (response_window_days BETWEEN 1 AND 30),
    ADD COLUMN auto_recalc boolean NOT NULL DEFAULT true,
    ADD COLUMN recalc_hours int NOT NULL DEFAULT 0 CHECK (recalc_hours BETWEEN 0 AND 720);

ALTER TABLE participants ADD COLUMN training_done boolean NOT NULL DEFAULT false;

CREATE TABLE match_runs (
    org_id       bigint NOT NULL,
    program_id   bigint NOT NULL,
    id           bigint NOT NULL DEFAULT nextval('md_ids'),
    started_at   timestamptz NOT NULL,
    duration_ms  int NOT NULL DEFAULT 0,
    reason       text NOT NULL,
    solver       smallint NOT NULL CHECK (solver IN (1, 2)),
    objective    smallint NOT NULL CHECK (objective IN (1, 2)),
    mentors      int NOT NULL DEFAULT 0,
    mentees      int NOT NULL DEFAULT 0,
    proposals    int NOT NULL DEFAULT 0,
    kept         int NOT NULL DEFAULT 0,
    unmatched    int NOT NULL DEFAULT 0,
    total_score  bigint NOT NULL DEFAULT 0,
    requested_by bigint,
    status       text NOT NULL DEFAULT 'done' CHECK (status IN ('done', 'failed')),
    error        text NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id)
);
CREATE INDEX match_runs_program ON match_runs (org_id, program_id, id DESC);

CREATE TABLE pairs (
    org_id               bigint NOT NULL,
    program_id           bigint NOT NULL,
    id                   bigint NOT NULL DEFAULT nextval('md_ids'),
    mentee_id            bigint NOT NULL,
    mentor_id            bigint NOT NULL,
    proposal_id          bigint,
    score                int NOT NULL DEFAULT 0,
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    started_at           timestamptz NOT NULL DEFAULT now(),
    ended_at             timestamptz,
    end_reason           text NOT NULL DEFAULT '',
    ended_by             bigint,
    rematch_requested_at timestamptz,
    rematch_reason       text NOT NULL DEFAULT '' CHECK (length(rematch_reason) <= 1000),
    rematch_by           bigint,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id),
    FOREIGN KEY (org_id, mentee_id) REFERENCES users(org_id, id),
    FOREIGN KEY (org_id, mentor_id) REFERENCES users(org_id, id),
    CHECK (mentee_id <> mentor_id)
);
CREATE UNIQUE INDEX pairs_active ON pairs (org_id, program_id, mentee_id, mentor_id) WHERE status = 'active';
CREATE INDEX pairs_program ON pairs (org_id, program_id, status);
CREATE INDEX pairs_mentee ON pairs (org_id, mentee_id);
CREATE INDEX pairs_mentor ON pairs (org_id, mentor_id);

CREATE TABLE match_proposals (
    org_id          bigint NOT NULL,
    program_id      bigint NOT NULL,
    id              bigint NOT NULL DEFAULT nextval('md_ids'),
    run_id          bigint,
    mentee_id       bigint NOT NULL,
    mentor_id       bigint NOT NULL,
    score           int NOT NULL DEFAULT 0 CHECK (score BETWEEN 0 AND 10000),
    -- Each factor's contribution, in the order of programs.weights.
    factors         int[] NOT NULL DEFAULT '{0,0,0,0,0,0,0,0,0}' CHECK (cardinality(factors) = 9),
    -- 1 proposed, 2 paired, 3 declined, 4 rejected, 5 superseded, 6 expired, 7 withdrawn.
    status          smallint NOT NULL DEFAULT 1 CHECK (status BETWEEN 1 AND 7),
    pinned          boolean NOT NULL DEFAULT false,
    approved        boolean NOT NULL DEFAULT false,
    approved_by     bigint,
    mentee_accepted boolean NOT NULL DEFAULT false,
    mentor_accepted boolean NOT NULL DEFAULT false,
    requested       boolean NOT NULL DEFAULT false,
    note            text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    expires_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    decided_at      timestamptz,
    decided_by      bigint,
    pair_id         bigint,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id),
    FOREIGN KEY (org_id, mentee_id) REFERENCES users(org_id, id),
    FOREIGN KEY (org_id, mentor_id) REFERENCES users(org_id, id),
    CHECK (mentee_id <> mentor_id)
);
CREATE UNIQUE INDEX match_proposals_open ON match_proposals (org_id, program_id, mentee_id, mentor_id)
    WHERE status = 1;
CREATE INDEX match_proposals_program ON match_proposals (org_id, program_id, status);
CREATE INDEX match_proposals_mentee ON match_proposals (org_id, mentee_id);
CREATE INDEX match_proposals_mentor ON match_proposals (org_id, mentor_id);
CREATE INDEX match_proposals_expiry ON match_proposals (expires_at) WHERE status = 1 AND requested;

CREATE TABLE match_exclusions (
    org_id     bigint NOT NULL,
    program_id bigint NOT NULL,
    mentee_id  bigint NOT NULL,
    mentor_id  bigint NOT NULL,
    reason     text NOT NULL DEFAULT '' CHECK (length(reason) <= 1000),
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, program_id, mentee_id, mentor_id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id)
);

-- A participant's wish about another participant of the program: a
-- mentee ranks mentors (1 best) or avoids them; a mentor avoids mentees.
CREATE TABLE match_preferences (
    org_id     bigint NOT NULL,
    program_id bigint NOT NULL,
    user_id    bigint NOT NULL,
    other_id   bigint NOT NULL,
    rank       int NOT NULL DEFAULT 0 CHECK (rank BETWEEN 0 AND 100),
    avoid      boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, program_id, user_id, other_id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id),
    CHECK (user_id <> other_id),
    CHECK (rank > 0 OR avoid)
);

-- Each user's inbox. Rows are delivered live by every mentord instance
-- that has a connection of the user (see md_notifications_announce).
CREATE TABLE notifications (
    org_id     bigint NOT NULL,
    id         bigint NOT NULL DEFAULT nextval('md_ids'),
    user_id    bigint NOT NULL,
    kind       text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    program_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id)
);
CREATE INDEX notifications_user ON notifications (org_id, user_id, id DESC);

-- Programs waiting for a background recalculation. version grows with
-- every change, so a run that started before the last change leaves the
-- row for another run; a lease keeps a row from being run twice at once,
-- and a crashed instance's lease simply runs out.
CREATE TABLE match_queue (
    org_id      bigint NOT NULL,
    program_id  bigint NOT NULL,
    reason      text NOT NULL,
    first_at    timestamptz NOT NULL DEFAULT now(),
    due_at      timestamptz NOT NULL,
    version     bigint NOT NULL DEFAULT 1,
    lease_until timestamptz,
    PRIMARY KEY (org_id, program_id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id)
);
CREATE INDEX match_queue_due ON match_queue (due_at);

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['match_runs', 'pairs', 'match_proposals', 'match_exclusions',
                             'match_preferences', 'notifications', 'match_queue'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format('CREATE POLICY tenant ON %I USING (org_id = md_current_org()) '
                       'WITH CHECK (org_id = md_current_org())', t);
    END LOOP;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON match_runs, pairs, match_proposals, match_exclusions,
    match_preferences, notifications, match_queue TO mentord_app;

CREATE TRIGGER audit_pairs_ins AFTER INSERT ON pairs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('pair', 'id');
CREATE TRIGGER audit_pairs_upd AFTER UPDATE ON pairs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('pair', 'id');
CREATE TRIGGER audit_exclusions_ins AFTER INSERT ON match_exclusions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('match_exclusion', 'mentee_id');
CREATE TRIGGER audit_exclusions_del AFTER DELETE ON match_exclusions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_audit_trigger('match_exclusion', 'mentee_id');

-- ---------------------------------------------------------------- inbox

-- Announces new inbox rows to every mentord instance: channel
-- mentord_inbox, payload "org:user:id" triples separated by commas, at
-- most about 7,000 bytes per message (PostgreSQL's limit is 8,000).
-- Listeners fetch the rows with md_notifications_get.
CREATE FUNCTION md_notifications_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_buf text := '';
    r record;
BEGIN
    FOR r IN SELECT n.org_id, n.user_id, n.id FROM new_rows n ORDER BY n.id LOOP
        IF length(v_buf) > 7000 THEN
            PERFORM pg_notify('mentord_inbox', v_buf);
            v_buf := '';
        END IF;
        v_buf := v_buf || CASE WHEN v_buf = '' THEN '' ELSE ',' END
                 || r.org_id || ':' || r.user_id || ':' || r.id;
    END LOOP;
    IF v_buf <> '' THEN
        PERFORM pg_notify('mentord_inbox', v_buf);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER notifications_announce AFTER INSERT ON notifications REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_notifications_announce();

-- The rows named in an announcement, for live delivery. Crosses
-- organizations (the listener is not in any): mentord_app only.
CREATE FUNCTION md_notifications_get(p_ids bigint[])
RETURNS TABLE (org_id bigint, user_id bigint, id bigint, kind text, title text, body text,
               program_id bigint, created_at bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT n.org_id, n.user_id, n.id, n.kind, n.title, n.body, n.program_id,
           extract(epoch FROM n.created_at)::bigint
      FROM notifications n WHERE n.id = ANY (p_ids) AND n.read_at IS NULL
$$;
REVOKE EXECUTE ON FUNCTION md_notifications_get(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_notifications_get(bigint[]) TO mentord_app;

CREATE FUNCTION md_notify(p_user bigint, p_kind text, p_title text, p_body text, p_program bigint)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO notifications (org_id, user_id, kind, title, body, program_id)
    VALUES (md_current_org(), p_user, p_kind, left(p_title, 300), left(p_body, 4000), p_program)
$$;

-- Tells the program's coordinators (or, when it has none, the
-- organization's admins).
CREATE FUNCTION md_notify_coordinators(p_program bigint, p_kind text, p_title text, p_body text)
RETURNS void
LANGUAGE sql AS $$
    INSERT INTO notifications (org_id, user_id, kind, title, body, program_id)
    SELECT md_current_org(), x.user_id, p_kind, left(p_title, 300), left(p_body, 4000), p_program
      FROM (SELECT c.user_id FROM program_coordinators c JOIN users u
                ON u.org_id = c.org_id AND u.id = c.user_id AND u.active AND u.role >= 2
             WHERE c.org_id = md_current_org() AND c.program_id = p_program) x
    UNION ALL
    SELECT md_current_org(), u.id, p_kind, left(p_title, 300), left(p_body, 4000), p_program
      FROM users u
     WHERE u.org_id = md_current_org() AND u.role = 3 AND u.active
       AND NOT EXISTS (SELECT 1 FROM program_coordinators c JOIN users v
                           ON v.org_id = c.org_id AND v.id = c.user_id AND v.active AND v.role >= 2
                        WHERE c.org_id = md_current_org() AND c.program_id = p_program)
$$;

-- ---------------------------------------------------------------- the queue

-- How long a burst of changes is gathered before a recalculation: the
-- server sets mentord.recalc_delay_ms on its connections (default 2 s); a
-- steady stream of changes still runs every 10 delays.
CREATE FUNCTION md_recalc_delay() RETURNS interval
LANGUAGE sql STABLE AS $$
    SELECT make_interval(secs => coalesce(NULLIF(current_setting('mentord.recalc_delay_ms', true), '')::int,
                                          2000) / 1000.0)
$$;

-- Queues the programs that a change touched, when they are matching or
-- active and recalculate by themselves, and wakes the workers.
CREATE FUNCTION md_match_enqueue(p_org bigint, p_programs bigint[], p_reason text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_delay interval := md_recalc_delay();
    v_n int;
BEGIN
    INSERT INTO match_queue AS q (org_id, program_id, reason, first_at, due_at)
    SELECT p.org_id, p.id, p_reason, now(), now() + v_delay
      FROM programs p
     WHERE p.org_id = p_org AND p.id = ANY (p_programs) AND p.state IN (3, 4) AND p.auto_recalc
    ON CONFLICT (org_id, program_id) DO UPDATE
       SET version = q.version + 1, reason = EXCLUDED.reason,
           first_at = CASE WHEN q.lease_until IS NULL THEN q.first_at ELSE now() END,
           due_at = least(now() + v_delay,
                          CASE WHEN q.lease_until IS NULL THEN q.first_at ELSE now() END + 10 * v_delay);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        PERFORM pg_notify('mentord_match', '');
    END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION md_match_enqueue(bigint, bigint[], text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_match_enqueue(bigint, bigint[], text) TO mentord_app;

CREATE FUNCTION md_match_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_org bigint;
    v_programs bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT min(o.org_id), array_agg(DISTINCT o.program_id) INTO v_org, v_programs FROM old_rows o;
    ELSE
        SELECT min(n.org_id), array_agg(DISTINCT n.program_id) INTO v_org, v_programs FROM new_rows n;
    END IF;
    IF v_programs IS NOT NULL THEN
        PERFORM md_match_enqueue(v_org, v_programs, TG_ARGV[0]);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER match_participants_ins AFTER INSERT ON participants REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('enrollment');
CREATE TRIGGER match_participants_upd AFTER UPDATE ON participants REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('profile');
CREATE TRIGGER match_exclusions_ins AFTER INSERT ON match_exclusions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('rules');
CREATE TRIGGER match_exclusions_del AFTER DELETE ON match_exclusions REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('rules');
CREATE TRIGGER match_preferences_ins AFTER INSERT ON match_preferences REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('preferences');
CREATE TRIGGER match_preferences_upd AFTER UPDATE ON match_preferences REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('preferences');
CREATE TRIGGER match_preferences_del AFTER DELETE ON match_preferences REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('preferences');
CREATE TRIGGER match_pairs_upd AFTER UPDATE ON pairs REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_changed('pair changed');

-- A proposal leaving the open state by somebody's decision (declined,
-- rejected, expired, withdrawn) frees a place; a run's own supersedes and
-- pairings do not queue another run.
CREATE FUNCTION md_match_proposal_closed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_org bigint;
    v_programs bigint[];
BEGIN
    SELECT min(n.org_id), array_agg(DISTINCT n.program_id) INTO v_org, v_programs
      FROM new_rows n WHERE n.status IN (3, 4, 6, 7);
    IF v_programs IS NOT NULL THEN
        PERFORM md_match_enqueue(v_org, v_programs, 'proposal closed');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER match_proposals_upd AFTER UPDATE ON match_proposals REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_proposal_closed();

-- Rules and weights of a program changed, or it entered matching/active.
CREATE FUNCTION md_match_program_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF ROW(NEW.weights, NEW.department_rule, NEW.min_seniority_gap, NEW.require_shared_language,
           NEW.require_mentor_training, NEW.mentors_per_mentee, NEW.objective, NEW.state,
           NEW.auto_recalc, NEW.default_mentor_capacity)
       IS DISTINCT FROM
       ROW(OLD.weights, OLD.department_rule, OLD.min_seniority_gap, OLD.require_shared_language,
           OLD.require_mentor_training, OLD.mentors_per_mentee, OLD.objective, OLD.state,
           OLD.auto_recalc, OLD.default_mentor_capacity) THEN
        PERFORM md_match_enqueue(NEW.org_id, ARRAY[NEW.id], 'rules');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER match_programs_upd AFTER UPDATE ON programs
    FOR EACH ROW EXECUTE FUNCTION md_match_program_changed();

-- Directory changes (leave, managers, deactivation) touch every program
-- the users take part in.
CREATE FUNCTION md_match_users_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_org bigint;
    v_programs bigint[];
BEGIN
    SELECT min(p.org_id), array_agg(DISTINCT p.program_id) INTO v_org, v_programs
      FROM (SELECT n.org_id, n.id FROM new_rows n JOIN old_rows o ON o.id = n.id AND o.org_id = n.org_id
             WHERE (n.employment, n.manager_id, n.active) IS DISTINCT FROM (o.employment, o.manager_id, o.active)) c
      JOIN participants p ON p.org_id = c.org_id AND p.user_id = c.id AND p.status = 'active';
    IF v_programs IS NOT NULL THEN
        PERFORM md_match_enqueue(v_org, v_programs, 'directory');
    END IF;
    RETURN NULL;
END
$$;
ALTER FUNCTION md_match_users_changed() SET enable_nestloop = off;
CREATE TRIGGER match_users_upd AFTER UPDATE ON users
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_users_changed();

-- The worker takes due programs with a lease. Crosses organizations:
-- mentord_app only.
CREATE FUNCTION md_match_claim(p_lease_seconds int, p_limit int)
RETURNS TABLE (org_id bigint, program_id bigint, version bigint, reason text)
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE match_queue q SET lease_until = now() + make_interval(secs => p_lease_seconds)
      FROM (SELECT x.org_id, x.program_id FROM match_queue x
             WHERE x.due_at <= now() AND (x.lease_until IS NULL OR x.lease_until < now())
             ORDER BY x.due_at LIMIT p_limit FOR UPDATE SKIP LOCKED) d
     WHERE q.org_id = d.org_id AND q.program_id = d.program_id
    RETURNING q.org_id, q.program_id, q.version, q.reason
$$;
REVOKE EXECUTE ON FUNCTION md_match_claim(int, int) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_match_claim(int, int) TO mentord_app;

-- Ends a claim: the row goes unless a change came in during the run (then
-- it stays, due again).
CREATE FUNCTION md_match_release(p_org bigint, p_program bigint, p_version bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
    DELETE FROM match_queue q WHERE q.org_id = p_org AND q.program_id = p_program AND q.version = p_version;
    UPDATE match_queue q SET lease_until = NULL, first_at = now()
     WHERE q.org_id = p_org AND q.program_id = p_program;
END
$$;
REVOKE EXECUTE ON FUNCTION md_match_release(bigint, bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_match_release(bigint, bigint, bigint) TO mentord_app;

-- Queues the programs whose periodic recalculation is due, and the
-- programs with self-match requests that just expired. Returns how many
-- requests expired.
CREATE FUNCTION md_match_housekeeping() RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    v_expired int := 0;
    r record;
BEGIN
    FOR r IN SELECT p.org_id, p.id FROM programs p
              WHERE p.state IN (3, 4) AND p.auto_recalc AND p.recalc_hours > 0
                AND NOT EXISTS (SELECT 1 FROM match_queue q WHERE q.org_id = p.org_id AND q.program_id = p.id)
                AND NOT EXISTS (SELECT 1 FROM match_runs m WHERE m.org_id = p.org_id AND m.program_id = p.id
                                   AND m.started_at > now() - make_interval(hours => p.recalc_hours)) LOOP
        PERFORM set_config('app.org_id', r.org_id::text, true);
        PERFORM md_match_enqueue(r.org_id, ARRAY[r.id], 'schedule');
    END LOOP;
    FOR r IN SELECT m.org_id, m.id, m.program_id, m.mentee_id, m.mentor_id FROM match_proposals m
              WHERE m.status = 1 AND m.requested AND m.expires_at < now()
              ORDER BY m.org_id FOR UPDATE SKIP LOCKED LOOP
        PERFORM set_config('app.org_id', r.org_id::text, true);
        UPDATE match_proposals SET status = 6, decided_at = now()
         WHERE org_id = r.org_id AND id = r.id;
        PERFORM md_notify(r.mentee_id, 'match.expired',
                          'Your request to ' || (SELECT display_name FROM users WHERE org_id = r.org_id AND id = r.mentor_id)
                          || ' expired',
                          'The mentor did not answer in time. Ask for suggestions again with: mentorctl match suggest --program '
                          || r.program_id, r.program_id);
        v_expired := v_expired + 1;
    END LOOP;
    PERFORM set_config('app.org_id', '', true);
    RETURN v_expired;
END
$$;
REVOKE EXECUTE ON FUNCTION md_match_housekeeping() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_match_housekeeping() TO mentord_app;

-- ---------------------------------------------------------------- engine input

-- The caller must run the program (admin or coordinator), or be the
-- background worker (no caller).
CREATE FUNCTION md_match_require_runner(p_program bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF md_caller() IS NOT NULL THEN
        PERFORM md_program_require_manager(p_program);
    ELSIF NOT EXISTS (SELECT 1 FROM programs WHERE org_id = md_current_org() AND id = p_program) THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04';
    END IF;
END
$$;

-- The program's matching settings.
CREATE FUNCTION md_match_settings(p_program bigint)
RETURNS TABLE (weights int[], department_rule smallint, min_seniority_gap int,
               require_shared_language boolean, require_mentor_training boolean,
               mentors_per_mentee int, objective smallint, default_mentor_capacity int,
               state smallint, match_mode smallint, name text)
LANGUAGE sql STABLE AS $$
    SELECT p.weights, p.department_rule, p.min_seniority_gap, p.require_shared_language,
           p.require_mentor_training, p.mentors_per_mentee, p.objective, p.default_mentor_capacity,
           p.state, p.match_mode, p.name
      FROM programs p WHERE p.org_id = md_current_org() AND p.id = p_program
$$;

-- A user's managers, nearest first: the profile's manager in the program
-- (participants.manager_id) and the directory's (users.manager_id), then
-- both again for each of them, up to the top (64 levels at most).
CREATE FUNCTION md_manager_chain(p_program bigint, p_user bigint, p_profile_manager bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE up (id, depth) AS (
        SELECT m.id, 1 FROM (VALUES (p_profile_manager),
                                    ((SELECT u.manager_id FROM users u
                                       WHERE u.org_id = md_current_org() AND u.id = p_user))) m (id)
         WHERE m.id IS NOT NULL
        UNION
        SELECT n.id, up.depth + 1
          FROM up CROSS JOIN LATERAL (
                   SELECT u.manager_id AS id FROM users u
                    WHERE u.org_id = md_current_org() AND u.id = up.id
                   UNION ALL
                   SELECT p.manager_id FROM participants p
                    WHERE p.org_id = md_current_org() AND p.program_id = p_program AND p.user_id = up.id) n
         WHERE n.id IS NOT NULL AND up.depth < 64
    )
    SELECT coalesce(array_agg(id ORDER BY depth, id), '{}')
      FROM (SELECT id, min(depth) AS depth FROM up GROUP BY id) c
$$;

-- The program's active participants (all of them, or only p_users),
-- with what the engine needs beyond the profile.
CREATE FUNCTION md_match_people(p_program bigint, p_users bigint[])
RETURNS TABLE (user_id bigint, role smallint, profile_pb bytea, display_name text, on_leave boolean,
               training_done boolean, capacity int, utc_offset_min int, managers bigint[],
               existing_pairs int)
LANGUAGE sql STABLE AS $$
    SELECT p.user_id, p.role, p.profile_pb, u.display_name, u.employment = 2, p.training_done,
           CASE WHEN p.capacity > 0 THEN p.capacity ELSE g.default_mentor_capacity END,
           CASE WHEN p.time_zone <> '' THEN
               (extract(epoch FROM timezone(p.time_zone, now()) - timezone('UTC', now())) / 60)::int END,
           md_manager_chain(p.program_id, p.user_id, p.manager_id),
           (SELECT count(*)::int FROM pairs x
             WHERE x.org_id = p.org_id AND x.program_id = p.program_id AND x.status = 'active'
               AND (x.mentee_id = p.user_id OR x.mentor_id = p.user_id))
      FROM participants p
      JOIN programs g ON g.org_id = p.org_id AND g.id = p.program_id
      JOIN users u ON u.org_id = p.org_id AND u.id = p.user_id
     WHERE p.org_id = md_current_org() AND p.program_id = p_program AND p.status = 'active' AND u.active
       AND (p_users IS NULL OR p.user_id = ANY (p_users))
     ORDER BY p.user_id
$$;

-- Facts about pairs (md_match_fact_kind_t): 1 rank, 2 the mentee avoids,
-- 3 the mentor avoids, 4 history (declined, rejected, ended), 5 excluded,
-- 6 kept (pinned, approved, accepted or requested: it stays and uses a
-- place), 7 current pair. Restricted to p_users when given.
CREATE FUNCTION md_match_facts(p_program bigint, p_users bigint[])
RETURNS TABLE (mentee_id bigint, mentor_id bigint, kind int, value int)
LANGUAGE sql STABLE AS $$
    SELECT f.mentee_id, f.mentor_id, f.kind, f.value FROM (
        SELECT CASE WHEN a.role = 2 THEN m.user_id ELSE m.other_id END AS mentee_id,
               CASE WHEN a.role = 2 THEN m.other_id ELSE m.user_id END AS mentor_id,
               k.kind, k.value
          FROM match_preferences m
          JOIN participants a ON a.org_id = m.org_id AND a.program_id = m.program_id AND a.user_id = m.user_id
          CROSS JOIN LATERAL (VALUES (1, m.rank, m.rank > 0 AND a.role = 2),
                                     (CASE WHEN a.role = 2 THEN 2 ELSE 3 END, 0, m.avoid)) k (kind, value, present)
         WHERE m.org_id = md_current_org() AND m.program_id = p_program AND k.present
        UNION ALL
        SELECT x.mentee_id, x.mentor_id, 4, 0 FROM match_proposals x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program AND x.status IN (3, 4)
        UNION ALL
        SELECT x.mentee_id, x.mentor_id, 4, 0 FROM pairs x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program AND x.status = 'ended'
        UNION ALL
        SELECT x.mentee_id, x.mentor_id, 5, 0 FROM match_exclusions x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program
        UNION ALL
        SELECT x.mentee_id, x.mentor_id, 6, 0 FROM match_proposals x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program AND x.status = 1
           AND (x.pinned OR x.approved OR x.mentee_accepted OR x.mentor_accepted OR x.requested)
        UNION ALL
        SELECT x.mentee_id, x.mentor_id, 7, 0 FROM pairs x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program AND x.status = 'active'
    ) f
    WHERE p_users IS NULL OR (f.mentee_id = ANY (p_users) AND f.mentor_id = ANY (p_users))
$$;

-- ---------------------------------------------------------------- runs

-- Writes a run's result: proposals nobody acted on are replaced by the
-- run's (a proposal the run makes again keeps its id), kept ones get
-- their fresh scores, and the people with a new proposal are told. The
-- arrays describe the run's new pairs (p_mentee .. p_factors, 9 factor
-- contributions per pair, flattened) and the kept proposals' new scores.
-- Waits for any other run of the program (the worker holds the same
-- advisory lock while it works). A new pair that no longer fits (a mentor
-- or mentee filled up since the run read its input) is left out.
CREATE FUNCTION md_match_apply(p_program bigint, p_reason text, p_solver smallint, p_objective smallint,
                               p_started timestamptz, p_duration_ms int, p_mentors int, p_mentees int,
                               p_unmatched int, p_mentee bigint[], p_mentor bigint[], p_score int[],
                               p_factors int[], p_kept_mentee bigint[], p_kept_mentor bigint[],
                               p_kept_score int[], p_kept_factors int[])
RETURNS TABLE (run_id bigint, proposals int, kept int, total_score bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_run bigint;
    v_state smallint;
    v_name text;
    v_new int;
    v_total bigint;
    v_kept int;
BEGIN
    PERFORM md_match_require_runner(p_program);
    PERFORM pg_advisory_xact_lock(p_program);
    SELECT g.state, g.name INTO v_state, v_name FROM programs g
     WHERE g.org_id = md_current_org() AND g.id = p_program;
    IF v_state NOT IN (3, 4) THEN
        RAISE EXCEPTION 'the program must be matching or active to make proposals' USING ERRCODE = 'MDA09';
    END IF;
    IF cardinality(p_mentee) IS DISTINCT FROM cardinality(p_mentor) OR
       cardinality(p_mentee) IS DISTINCT FROM cardinality(p_score) OR
       coalesce(cardinality(p_factors), 0) <> 9 * coalesce(cardinality(p_mentee), 0) THEN
        RAISE EXCEPTION 'run arrays of different lengths' USING ERRCODE = 'MDA22';
    END IF;

    INSERT INTO match_runs (org_id, program_id, started_at, duration_ms, reason, solver, objective,
                            mentors, mentees, unmatched, requested_by)
    VALUES (md_current_org(), p_program, p_started, p_duration_ms, p_reason, p_solver, p_objective,
            p_mentors, p_mentees, p_unmatched, md_caller())
    RETURNING id INTO v_run;

    CREATE TEMP TABLE IF NOT EXISTS md_run_new (mentee_id bigint, mentor_id bigint, score int, factors int[],
                                                  PRIMARY KEY (mentee_id, mentor_id))
        ON COMMIT DROP;
    TRUNCATE md_run_new;
    INSERT INTO md_run_new
    SELECT n.mentee, n.mentor, n.score, p_factors[(n.i - 1) * 9 + 1 : n.i * 9]
      FROM unnest(p_mentee, p_mentor, p_score) WITH ORDINALITY AS n (mentee, mentor, score, i);

    ANALYZE md_run_new;

    -- Leave out what no longer fits: places and capacity are counted with
    -- the pairs and kept proposals as they are now, once per person.
    WITH used AS (
        SELECT x.mentor_id AS mentor_id, x.mentee_id AS mentee_id FROM pairs x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program AND x.status = 'active'
        UNION ALL
        SELECT x.mentor_id, x.mentee_id FROM match_proposals x
         WHERE x.org_id = md_current_org() AND x.program_id = p_program AND x.status = 1
           AND (x.pinned OR x.approved OR x.mentee_accepted OR x.mentor_accepted OR x.requested)
    ), by_mentor AS (
        SELECT u.mentor_id AS user_id, count(*)::int AS n FROM used u GROUP BY u.mentor_id
    ), by_mentee AS (
        SELECT u.mentee_id AS user_id, count(*)::int AS n FROM used u GROUP BY u.mentee_id
    ), ranked AS (
        SELECT r.mentee_id, r.mentor_id,
               row_number() OVER (PARTITION BY r.mentor_id ORDER BY r.score DESC, r.mentee_id) AS mentor_rank,
               row_number() OVER (PARTITION BY r.mentee_id ORDER BY r.score DESC, r.mentor_id) AS mentee_rank
          FROM md_run_new r
    ), misfits AS (
        SELECT w.mentee_id, w.mentor_id
          FROM ranked w
          JOIN programs g ON g.org_id = md_current_org() AND g.id = p_program
          LEFT JOIN participants mt ON mt.org_id = md_current_org() AND mt.program_id = p_program
                                   AND mt.user_id = w.mentor_id AND mt.role = 1
          LEFT JOIN participants me ON me.org_id = md_current_org() AND me.program_id = p_program
                                   AND me.user_id = w.mentee_id AND me.role = 2
          LEFT JOIN by_mentor um ON um.user_id = w.mentor_id
          LEFT JOIN by_mentee ue ON ue.user_id = w.mentee_id
         WHERE mt.status IS DISTINCT FROM 'active' OR me.status IS DISTINCT FROM 'active'
            OR w.mentor_rank + coalesce(um.n, 0)
               > CASE WHEN mt.capacity > 0 THEN mt.capacity ELSE g.default_mentor_capacity END
            OR w.mentee_rank + coalesce(ue.n, 0) > g.mentors_per_mentee
    )
    DELETE FROM md_run_new d USING misfits f
     WHERE d.mentee_id = f.mentee_id AND d.mentor_id = f.mentor_id;

    -- Open proposals nobody acted on: the run's own stay (fresh score),
    -- the others are superseded.
    UPDATE match_proposals m SET score = r.score, factors = r.factors, run_id = v_run
      FROM md_run_new r
     WHERE m.org_id = md_current_org() AND m.program_id = p_program AND m.status = 1
       AND m.mentee_id = r.mentee_id AND m.mentor_id = r.mentor_id;
    UPDATE match_proposals m SET status = 5, decided_at = now()
     WHERE m.org_id = md_current_org() AND m.program_id = p_program AND m.status = 1
       AND NOT (m.pinned OR m.approved OR m.mentee_accepted OR m.mentor_accepted OR m.requested)
       AND NOT EXISTS (SELECT 1 FROM md_run_new r WHERE r.mentee_id = m.mentee_id AND r.mentor_id = m.mentor_id);

    WITH ins AS (
        INSERT INTO match_proposals (org_id, program_id, run_id, mentee_id, mentor_id, score, factors)
        SELECT md_current_org(), p_program, v_run, r.mentee_id, r.mentor_id, r.score, r.factors
          FROM md_run_new r
         WHERE NOT EXISTS (SELECT 1 FROM match_proposals m WHERE m.org_id = md_current_org()
                              AND m.program_id = p_program AND m.status = 1
                              AND m.mentee_id = r.mentee_id AND m.mentor_id = r.mentor_id)
        RETURNING id, mentee_id, mentor_id, score
    ), notes AS (
        INSERT INTO notifications (org_id, user_id, kind, title, body, program_id)
        SELECT md_current_org(), x.user_id, 'match.proposed',
               'New match proposal in ' || v_name || ': ' || x.other_name,
               'You and ' || x.other_name || ' were proposed as a pair (score '
               || to_char(x.score / 100.0, 'FM990.00') || '). See why with: mentorctl match explain --id '
               || x.id || '; answer with: mentorctl match accept|decline ' || x.id,
               p_program
          FROM (SELECT i.id, i.score, i.mentee_id AS user_id, u.display_name AS other_name
                  FROM ins i JOIN users u ON u.org_id = md_current_org() AND u.id = i.mentor_id
                UNION ALL
                SELECT i.id, i.score, i.mentor_id, u.display_name
                  FROM ins i JOIN users u ON u.org_id = md_current_org() AND u.id = i.mentee_id) x
        RETURNING 1
    )
    SELECT count(*)::int INTO v_new FROM ins;

    UPDATE match_proposals m SET score = k.score, factors = p_kept_factors[(k.i - 1) * 9 + 1 : k.i * 9]
      FROM unnest(p_kept_mentee, p_kept_mentor, p_kept_score) WITH ORDINALITY AS k (mentee, mentor, score, i)
     WHERE m.org_id = md_current_org() AND m.program_id = p_program AND m.status = 1
       AND m.mentee_id = k.mentee AND m.mentor_id = k.mentor;

    SELECT count(*)::int INTO v_kept FROM match_proposals m
     WHERE m.org_id = md_current_org() AND m.program_id = p_program AND m.status = 1
       AND (m.pinned OR m.approved OR m.mentee_accepted OR m.mentor_accepted OR m.requested);
    SELECT coalesce(sum(r.score), 0) INTO v_total FROM md_run_new r;
    UPDATE match_runs SET proposals = (SELECT count(*) FROM md_run_new), kept = v_kept, total_score = v_total
     WHERE org_id = md_current_org() AND id = v_run;
    RETURN QUERY SELECT v_run, (SELECT count(*)::int FROM md_run_new), v_kept, v_total;
END
$$;

-- Places a person uses now in the program: active pairs plus kept
-- proposals (as a mentor when p_mentor, else as a mentee).
CREATE FUNCTION md_match_used(p_program bigint, p_user bigint, p_mentor boolean) RETURNS int
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_mentor THEN
        RETURN (SELECT count(*) FROM pairs x WHERE x.org_id = md_current_org() AND x.program_id = p_program
                   AND x.status = 'active' AND x.mentor_id = p_user)
             + (SELECT count(*) FROM match_proposals x WHERE x.org_id = md_current_org()
                   AND x.mentor_id = p_user AND x.program_id = p_program AND x.status = 1
                   AND (x.pinned OR x.approved OR x.mentee_accepted OR x.mentor_accepted OR x.requested));
    END IF;
    RETURN (SELECT count(*) FROM pairs x WHERE x.org_id = md_current_org() AND x.program_id = p_program
               AND x.status = 'active' AND x.mentee_id = p_user)
         + (SELECT count(*) FROM match_proposals x WHERE x.org_id = md_current_org()
               AND x.mentee_id = p_user AND x.program_id = p_program AND x.status = 1
               AND (x.pinned OR x.approved OR x.mentee_accepted OR x.mentor_accepted OR x.requested));
END
$$;

-- Records a run that failed (the worker's, so the history shows it).
CREATE FUNCTION md_match_run_failed(p_program bigint, p_reason text, p_solver smallint,
                                    p_objective smallint, p_started timestamptz, p_error text)
RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO match_runs (org_id, program_id, started_at, duration_ms, reason, solver, objective,
                            requested_by, status, error)
    VALUES (md_current_org(), p_program, p_started,
            (extract(epoch FROM clock_timestamp() - p_started) * 1000)::int, p_reason, p_solver,
            p_objective, md_caller(), 'failed', left(p_error, 1000))
    RETURNING id
$$;

-- ---------------------------------------------------------------- decisions

-- The two people of a pair must be active participants of the program,
-- as mentee and mentor.
CREATE FUNCTION md_match_require_pair(p_program bigint, p_mentee bigint, p_mentor bigint, p_field text)
RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM participants p WHERE p.org_id = md_current_org() AND p.program_id = p_program
                      AND p.user_id = p_mentee AND p.role = 2 AND p.status = 'active') THEN
        RAISE EXCEPTION 'user % is not an active mentee of the program', p_mentee
            USING ERRCODE = 'MDA04', DETAIL = p_field || '.mentee_id';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM participants p WHERE p.org_id = md_current_org() AND p.program_id = p_program
                      AND p.user_id = p_mentor AND p.role = 1 AND p.status = 'active') THEN
        RAISE EXCEPTION 'user % is not an active mentor of the program', p_mentor
            USING ERRCODE = 'MDA04', DETAIL = p_field || '.mentor_id';
    END IF;
END
$$;

-- Turns a proposal that is approved and accepted by both into a pair,
-- checking capacity under a lock on the mentor's participant row (and the
-- mentee's), so concurrent acceptances on any number of instances cannot
-- overfill a mentor. Returns the pair's id, or NULL when the proposal is
-- not complete yet.
CREATE FUNCTION md_match_try_pair(p_proposal bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m match_proposals%ROWTYPE;
    v_cap int;
    v_places int;
    v_pair bigint;
    v_name text;
BEGIN
    SELECT * INTO m FROM match_proposals WHERE org_id = md_current_org() AND id = p_proposal;
    IF m.status <> 1 OR NOT ((m.approved OR m.pinned OR m.requested) AND m.mentee_accepted AND m.mentor_accepted) THEN
        RETURN NULL;
    END IF;
    -- Lock order: mentor, then mentee (user ids of different roles never
    -- wait on each other in the other order).
    SELECT CASE WHEN p.capacity > 0 THEN p.capacity ELSE g.default_mentor_capacity END INTO v_cap
      FROM participants p JOIN programs g ON g.org_id = p.org_id AND g.id = p.program_id
     WHERE p.org_id = md_current_org() AND p.program_id = m.program_id AND p.user_id = m.mentor_id
       AND p.role = 1 AND p.status = 'active'
       FOR UPDATE OF p;
    IF v_cap IS NULL THEN
        RAISE EXCEPTION 'the mentor is no longer in the program' USING ERRCODE = 'MDA09';
    END IF;
    SELECT g.mentors_per_mentee INTO v_places
      FROM participants p JOIN programs g ON g.org_id = p.org_id AND g.id = p.program_id
     WHERE p.org_id = md_current_org() AND p.program_id = m.program_id AND p.user_id = m.mentee_id
       AND p.role = 2 AND p.status = 'active'
       FOR UPDATE OF p;
    IF v_places IS NULL THEN
        RAISE EXCEPTION 'the mentee is no longer in the program' USING ERRCODE = 'MDA09';
    END IF;
    IF (SELECT count(*) FROM pairs x WHERE x.org_id = md_current_org() AND x.program_id = m.program_id
           AND x.mentor_id = m.mentor_id AND x.status = 'active') >= v_cap THEN
        RAISE EXCEPTION 'the mentor has no room left (capacity %)', v_cap USING ERRCODE = 'MDA09';
    END IF;
    IF (SELECT count(*) FROM pairs x WHERE x.org_id = md_current_org() AND x.program_id = m.program_id
           AND x.mentee_id = m.mentee_id AND x.status = 'active') >= v_places THEN
        RAISE EXCEPTION 'the mentee already has % mentor(s), the program''s limit', v_places USING ERRCODE = 'MDA09';
    END IF;
    INSERT INTO pairs (org_id, program_id, mentee_id, mentor_id, proposal_id, score)
    VALUES (md_current_org(), m.program_id, m.mentee_id, m.mentor_id, m.id, m.score)
    RETURNING id INTO v_pair;
    UPDATE match_proposals SET status = 2, pair_id = v_pair, decided_at = now()
     WHERE org_id = md_current_org() AND id = m.id;
    SELECT name INTO v_name FROM programs WHERE org_id = md_current_org() AND id = m.program_id;
    PERFORM md_notify(m.mentee_id, 'pair.started', 'You have a new mentor in ' || v_name || ': '
                      || (SELECT display_name FROM users WHERE org_id = md_current_org() AND id = m.mentor_id),
                      'Your pair ' || v_pair || ' is active. Plan your first check-in.', m.program_id);
    PERFORM md_notify(m.mentor_id, 'pair.started', 'You have a new mentee in ' || v_name || ': '
                      || (SELECT display_name FROM users WHERE org_id = md_current_org() AND id = m.mentee_id),
                      'Your pair ' || v_pair || ' is active. Plan your first check-in.', m.program_id);
    RETURN v_pair;
END
$$;

-- Approve, reject (admins and the program's coordinators), accept or
-- decline (the mentee or the mentor) an open proposal.
CREATE FUNCTION md_match_decide(p_proposal bigint, p_decision int, p_note text)
RETURNS TABLE (proposal_id bigint, pair_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    m match_proposals%ROWTYPE;
    v_access text;
    v_self_mentee boolean;
    v_self_mentor boolean;
    v_pair bigint;
    v_other bigint;
BEGIN
    SELECT * INTO m FROM match_proposals WHERE org_id = md_current_org() AND id = p_proposal FOR UPDATE;
    IF m.id IS NULL THEN
        RAISE EXCEPTION 'no such proposal' USING ERRCODE = 'MDA04', DETAIL = 'match_decide.proposal_id';
    END IF;
    v_access := md_program_access(m.program_id);
    v_self_mentee := m.mentee_id = md_caller();
    v_self_mentor := m.mentor_id = md_caller();
    IF coalesce(v_access, '') NOT IN ('admin', 'coordinator') AND NOT v_self_mentee AND NOT v_self_mentor THEN
        RAISE EXCEPTION 'no such proposal' USING ERRCODE = 'MDA04', DETAIL = 'match_decide.proposal_id';
    END IF;
    IF p_decision IN (1, 2) AND coalesce(v_access, '') NOT IN ('admin', 'coordinator') THEN
        RAISE EXCEPTION 'only admins and the program''s coordinators may approve or reject' USING ERRCODE = 'MDA03';
    END IF;
    IF p_decision IN (3, 4) AND NOT v_self_mentee AND NOT v_self_mentor THEN
        RAISE EXCEPTION 'only the mentee or the mentor may accept or decline their proposal' USING ERRCODE = 'MDA03';
    END IF;
    IF m.status = 1 AND m.requested AND m.expires_at < now() THEN
        RAISE EXCEPTION 'the request expired' USING ERRCODE = 'MDA09';
    END IF;
    IF m.status <> 1 THEN
        RAISE EXCEPTION 'the proposal is no longer open (it is %)',
            (ARRAY['proposed', 'paired', 'declined', 'rejected', 'superseded', 'expired', 'withdrawn'])[m.status]
            USING ERRCODE = 'MDA09';
    END IF;
    PERFORM md_program_require_open(m.program_id);
    IF p_decision = 1 THEN
        UPDATE match_proposals SET approved = true, approved_by = md_caller()
         WHERE org_id = md_current_org() AND id = m.id;
    ELSIF p_decision = 2 OR p_decision = 4 THEN
        UPDATE match_proposals SET status = CASE WHEN p_decision = 2 THEN 4 ELSE 3 END, note = coalesce(p_note, ''),
               decided_at = now(), decided_by = md_caller()
         WHERE org_id = md_current_org() AND id = m.id;
        IF p_decision = 4 THEN
            v_other := CASE WHEN v_self_mentee THEN m.mentor_id ELSE m.mentee_id END;
            PERFORM md_notify(v_other, 'match.declined', 'A match proposal was declined',
                              'Proposal ' || m.id || ' was declined. A new proposal will follow.', m.program_id);
        ELSIF m.requested THEN
            PERFORM md_notify(m.mentee_id, 'match.rejected', 'Your mentor request was rejected',
                              'Ask for suggestions again with: mentorctl match suggest --program ' || m.program_id,
                              m.program_id);
        END IF;
    ELSIF p_decision = 3 THEN
        UPDATE match_proposals
           SET mentee_accepted = mentee_accepted OR v_self_mentee,
               mentor_accepted = mentor_accepted OR v_self_mentor
         WHERE org_id = md_current_org() AND id = m.id;
    ELSE
        RAISE EXCEPTION 'the decision must be approve, reject, accept or decline'
            USING ERRCODE = 'MDA22', DETAIL = 'match_decide.decision';
    END IF;
    v_pair := md_match_try_pair(m.id);
    RETURN QUERY SELECT m.id, v_pair;
END
$$;

-- Pins (or unpins) a pair: an approved proposal every run keeps.
CREATE FUNCTION md_match_pin(p_program bigint, p_mentee bigint, p_mentor bigint, p_remove boolean,
                             p_score int, p_factors int[])
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM md_program_require_manager(p_program);
    PERFORM md_program_require_open(p_program);
    IF p_remove THEN
        UPDATE match_proposals SET status = 5, decided_at = now(), decided_by = md_caller()
         WHERE org_id = md_current_org() AND program_id = p_program AND mentee_id = p_mentee
           AND mentor_id = p_mentor AND status = 1 AND pinned
        RETURNING id INTO v_id;
        IF v_id IS NULL THEN
            RAISE EXCEPTION 'the pair is not pinned' USING ERRCODE = 'MDA04', DETAIL = 'match_pin.mentee_id';
        END IF;
        PERFORM md_match_enqueue(md_current_org(), ARRAY[p_program], 'unpinned');
        RETURN v_id;
    END IF;
    PERFORM md_match_require_pair(p_program, p_mentee, p_mentor, 'match_pin');
    IF EXISTS (SELECT 1 FROM pairs x WHERE x.org_id = md_current_org() AND x.program_id = p_program
                  AND x.mentee_id = p_mentee AND x.mentor_id = p_mentor AND x.status = 'active') THEN
        RAISE EXCEPTION 'the two are already a pair' USING ERRCODE = 'MDA09';
    END IF;
    UPDATE match_proposals SET pinned = true, approved = true, approved_by = md_caller()
     WHERE org_id = md_current_org() AND program_id = p_program AND mentee_id = p_mentee
       AND mentor_id = p_mentor AND status = 1
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        INSERT INTO match_proposals (org_id, program_id, mentee_id, mentor_id, score, factors, pinned,
                                     approved, approved_by)
        VALUES (md_current_org(), p_program, p_mentee, p_mentor, p_score, p_factors, true, true, md_caller())
        RETURNING id INTO v_id;
        PERFORM md_notify(u, 'match.proposed', 'New match proposal (pinned by your coordinator)',
                          'Proposal ' || v_id || '. Answer with: mentorctl match accept|decline ' || v_id, p_program)
           FROM unnest(ARRAY[p_mentee, p_mentor]) u;
    END IF;
    PERFORM md_match_enqueue(md_current_org(), ARRAY[p_program], 'pinned');
    RETURN v_id;
END
$$;

-- Forbids (or allows again) a pair; an open proposal for it is rejected.
CREATE FUNCTION md_match_exclude(p_program bigint, p_mentee bigint, p_mentor bigint, p_remove boolean,
                                 p_reason text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM md_program_require_manager(p_program);
    PERFORM md_program_require_open(p_program);
    IF p_remove THEN
        DELETE FROM match_exclusions WHERE org_id = md_current_org() AND program_id = p_program
           AND mentee_id = p_mentee AND mentor_id = p_mentor;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'the pair is not excluded' USING ERRCODE = 'MDA04', DETAIL = 'match_exclude.mentee_id';
        END IF;
        RETURN;
    END IF;
    PERFORM md_match_require_pair(p_program, p_mentee, p_mentor, 'match_exclude');
    INSERT INTO match_exclusions (org_id, program_id, mentee_id, mentor_id, reason, created_by)
    VALUES (md_current_org(), p_program, p_mentee, p_mentor, coalesce(p_reason, ''), md_caller())
    ON CONFLICT (org_id, program_id, mentee_id, mentor_id) DO UPDATE SET reason = EXCLUDED.reason;
    UPDATE match_proposals SET status = 4, note = 'excluded: ' || coalesce(p_reason, ''),
           decided_at = now(), decided_by = md_caller()
     WHERE org_id = md_current_org() AND program_id = p_program AND mentee_id = p_mentee
       AND mentor_id = p_mentor AND status = 1;
END
$$;

-- Gives a proposal's mentee another mentor: the proposal is superseded and
-- an approved one is made.
CREATE FUNCTION md_match_reassign(p_proposal bigint, p_mentor bigint, p_score int, p_factors int[])
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    m match_proposals%ROWTYPE;
    v_id bigint;
BEGIN
    SELECT * INTO m FROM match_proposals WHERE org_id = md_current_org() AND id = p_proposal FOR UPDATE;
    IF m.id IS NULL THEN
        RAISE EXCEPTION 'no such proposal' USING ERRCODE = 'MDA04', DETAIL = 'match_reassign.proposal_id';
    END IF;
    PERFORM md_program_require_manager(m.program_id);
    PERFORM md_program_require_open(m.program_id);
    IF m.status <> 1 THEN
        RAISE EXCEPTION 'the proposal is no longer open' USING ERRCODE = 'MDA09';
    END IF;
    IF m.mentor_id = p_mentor THEN
        RAISE EXCEPTION 'the proposal already has this mentor' USING ERRCODE = 'MDA22',
            DETAIL = 'match_reassign.mentor_id';
    END IF;
    PERFORM md_match_require_pair(m.program_id, m.mentee_id, p_mentor, 'match_reassign');
    UPDATE match_proposals SET status = 5, decided_at = now(), decided_by = md_caller(),
           note = 'reassigned'
     WHERE org_id = md_current_org() AND id = m.id;
    INSERT INTO match_proposals (org_id, program_id, mentee_id, mentor_id, score, factors, approved, approved_by)
    VALUES (md_current_org(), m.program_id, m.mentee_id, p_mentor, p_score, p_factors, true, md_caller())
    ON CONFLICT (org_id, program_id, mentee_id, mentor_id) WHERE status = 1
    DO UPDATE SET approved = true, approved_by = md_caller()
    RETURNING id INTO v_id;
    PERFORM md_notify(u, 'match.proposed', 'New match proposal (reassigned by your coordinator)',
                      'Proposal ' || v_id || '. Answer with: mentorctl match accept|decline ' || v_id, m.program_id)
       FROM unnest(ARRAY[m.mentee_id, p_mentor]) u;
    RETURN v_id;
END
$$;

-- Sets the caller's preference about another participant.
CREATE FUNCTION md_match_preference_set(p_program bigint, p_other bigint, p_rank int, p_avoid boolean)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_role smallint;
    v_other_role smallint;
BEGIN
    SELECT role INTO v_role FROM participants WHERE org_id = md_current_org() AND program_id = p_program
       AND user_id = md_caller() AND status = 'active';
    IF v_role IS NULL THEN
        PERFORM md_program_access(p_program);
        RAISE EXCEPTION 'only participants of the program have preferences' USING ERRCODE = 'MDA03';
    END IF;
    SELECT role INTO v_other_role FROM participants WHERE org_id = md_current_org() AND program_id = p_program
       AND user_id = p_other AND status = 'active';
    IF v_other_role IS NULL OR v_other_role = v_role THEN
        RAISE EXCEPTION 'user % is not a % of the program', p_other,
            CASE WHEN v_role = 2 THEN 'mentor' ELSE 'mentee' END
            USING ERRCODE = 'MDA04', DETAIL = 'match_preference_set.other_id';
    END IF;
    IF p_rank < 0 OR p_rank > 100 THEN
        RAISE EXCEPTION 'a rank is 1 (most wanted) to 100' USING ERRCODE = 'MDA22',
            DETAIL = 'match_preference_set.rank';
    END IF;
    IF p_rank > 0 AND v_role <> 2 THEN
        RAISE EXCEPTION 'only mentees rank mentors; mentors may avoid mentees' USING ERRCODE = 'MDA22',
            DETAIL = 'match_preference_set.rank';
    END IF;
    IF p_rank > 0 AND p_avoid THEN
        RAISE EXCEPTION 'rank or avoid, not both' USING ERRCODE = 'MDA22', DETAIL = 'match_preference_set.avoid';
    END IF;
    IF p_rank = 0 AND NOT p_avoid THEN
        DELETE FROM match_preferences WHERE org_id = md_current_org() AND program_id = p_program
           AND user_id = md_caller() AND other_id = p_other;
        RETURN;
    END IF;
    INSERT INTO match_preferences (org_id, program_id, user_id, other_id, rank, avoid)
    VALUES (md_current_org(), p_program, md_caller(), p_other, p_rank, p_avoid)
    ON CONFLICT (org_id, program_id, user_id, other_id)
    DO UPDATE SET rank = EXCLUDED.rank, avoid = EXCLUDED.avoid, updated_at = now();
    IF p_avoid THEN
        -- An open proposal with someone the caller now avoids is declined.
        UPDATE match_proposals SET status = 3, note = 'avoided', decided_at = now(), decided_by = md_caller()
         WHERE org_id = md_current_org() AND program_id = p_program AND status = 1
           AND ((mentee_id = md_caller() AND mentor_id = p_other) OR (mentor_id = md_caller() AND mentee_id = p_other));
    END IF;
END
$$;

-- A mentee's self-match request to a mentor: an open proposal the mentor
-- answers within the program's response window. The caller has checked
-- the hard rules with the engine; capacity is checked again at acceptance.
CREATE FUNCTION md_match_request(p_program bigint, p_mentor bigint, p_message text, p_score int,
                                 p_factors int[])
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    g programs%ROWTYPE;
    v_id bigint;
    v_open int;
BEGIN
    SELECT * INTO g FROM programs WHERE org_id = md_current_org() AND id = p_program;
    IF g.id IS NULL OR md_program_access(p_program) IS NULL THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04';
    END IF;
    IF g.match_mode <> 2 THEN
        RAISE EXCEPTION 'the program is not in self-match mode; its coordinators make the matches'
            USING ERRCODE = 'MDA09';
    END IF;
    IF g.state NOT IN (3, 4) THEN
        RAISE EXCEPTION 'the program must be matching or active' USING ERRCODE = 'MDA09';
    END IF;
    PERFORM md_match_require_pair(p_program, md_caller(), p_mentor, 'match_request');
    -- One mentee's requests are serialized by a lock on their row.
    PERFORM 1 FROM participants WHERE org_id = md_current_org() AND program_id = p_program
       AND user_id = md_caller() FOR UPDATE;
    UPDATE match_proposals SET status = 6, decided_at = now()
     WHERE org_id = md_current_org() AND program_id = p_program AND mentee_id = md_caller() AND status = 1
       AND requested AND expires_at <= now();
    v_open := md_match_used(p_program, md_caller(), false);
    IF v_open >= g.mentors_per_mentee THEN
        RAISE EXCEPTION 'you already have % open request(s) or mentor(s), the program''s limit; wait for an answer',
            v_open USING ERRCODE = 'MDA09';
    END IF;
    IF EXISTS (SELECT 1 FROM match_proposals WHERE org_id = md_current_org() AND program_id = p_program
                  AND mentee_id = md_caller() AND mentor_id = p_mentor AND status = 1) THEN
        RAISE EXCEPTION 'there is already an open proposal with this mentor' USING ERRCODE = 'MDA06',
            DETAIL = 'match_request.mentor_id';
    END IF;
    INSERT INTO match_proposals (org_id, program_id, mentee_id, mentor_id, score, factors, requested,
                                 mentee_accepted, note, expires_at)
    VALUES (md_current_org(), p_program, md_caller(), p_mentor, p_score, p_factors, true, true,
            coalesce(p_message, ''), now() + make_interval(days => g.response_window_days))
    RETURNING id INTO v_id;
    PERFORM md_notify(p_mentor, 'match.requested',
                      (SELECT display_name FROM users WHERE org_id = md_current_org() AND id = md_caller())
                      || ' asks you to be their mentor in ' || g.name,
                      'Answer within ' || g.response_window_days || ' days with: mentorctl match accept|decline '
                      || v_id || CASE WHEN coalesce(p_message, '') <> '' THEN '. Their message: ' || p_message ELSE '' END,
                      p_program);
    RETURN v_id;
END
$$;

-- A participant of an active pair asks for another match: the pair is
-- flagged and the coordinators are told.
CREATE FUNCTION md_rematch_request(p_pair bigint, p_reason text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    x pairs%ROWTYPE;
BEGIN
    SELECT * INTO x FROM pairs WHERE org_id = md_current_org() AND id = p_pair FOR UPDATE;
    IF x.id IS NULL OR (md_caller() NOT IN (x.mentee_id, x.mentor_id)
                        AND coalesce(md_program_access(x.program_id), '') NOT IN ('admin', 'coordinator')) THEN
        RAISE EXCEPTION 'no such pair' USING ERRCODE = 'MDA04', DETAIL = 'rematch_request.pair_id';
    END IF;
    IF md_caller() NOT IN (x.mentee_id, x.mentor_id) THEN
        RAISE EXCEPTION 'only the mentee or the mentor of the pair may ask for a rematch' USING ERRCODE = 'MDA03';
    END IF;
    IF x.status <> 'active' THEN
        RAISE EXCEPTION 'the pair has ended' USING ERRCODE = 'MDA09';
    END IF;
    UPDATE pairs SET rematch_requested_at = now(), rematch_reason = p_reason, rematch_by = md_caller()
     WHERE org_id = md_current_org() AND id = x.id;
    PERFORM md_notify_coordinators(x.program_id, 'pair.rematch',
        'Rematch requested for pair ' || x.id,
        (SELECT display_name FROM users WHERE org_id = md_current_org() AND id = md_caller())
        || ' asks for another match: ' || p_reason);
    RETURN x.id;
END
$$;

-- Records whether a mentor did the program's required training.
CREATE FUNCTION md_participant_training(p_program bigint, p_user bigint, p_done boolean) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM md_program_require_manager(p_program);
    PERFORM md_program_require_open(p_program);
    UPDATE participants SET training_done = p_done, updated_at = now()
     WHERE org_id = md_current_org() AND program_id = p_program AND user_id = p_user AND role = 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'user % is not a mentor of the program (training is for mentors)', p_user
            USING ERRCODE = 'MDA04', DETAIL = 'participant_training.user_id';
    END IF;
END
$$;

-- A participant who withdraws takes their open proposals with them.
CREATE FUNCTION md_match_participant_left() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE match_proposals m SET status = 7, decided_at = now()
      FROM new_rows n
     WHERE n.status = 'withdrawn' AND m.org_id = n.org_id AND m.program_id = n.program_id AND m.status = 1
       AND (m.mentee_id = n.user_id OR m.mentor_id = n.user_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER match_participants_left AFTER UPDATE ON participants REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION md_match_participant_left();
