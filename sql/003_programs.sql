-- 003_programs: programs, their coordinators, and participants with their
-- profiles. A profile is kept whole as the protocol's Profile message
-- (profile_pb) so it round-trips exactly, with the fields that SQL needs to
-- join or constrain on (manager, department, capacity, time zone) copied
-- into columns.

CREATE TABLE programs (
    org_id                  bigint NOT NULL REFERENCES orgs(id),
    id                      bigint NOT NULL DEFAULT nextval('md_ids'),
    name                    text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description             text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
    objectives              text[] NOT NULL DEFAULT '{}' CHECK (cardinality(objectives) <= 50),
    mentor_expectations     text NOT NULL DEFAULT '' CHECK (length(mentor_expectations) <= 10000),
    mentee_expectations     text NOT NULL DEFAULT '' CHECK (length(mentee_expectations) <= 10000),
    checkin_cadence_days    int NOT NULL DEFAULT 14 CHECK (checkin_cadence_days BETWEEN 1 AND 365),
    start_date              date,
    end_date                date,
    default_mentor_capacity int NOT NULL DEFAULT 2 CHECK (default_mentor_capacity BETWEEN 1 AND 10),
    -- skills, goals, interests, seniority, department, time_zone, language,
    -- availability, preferences: 0-100 each.
    weights                 int[] NOT NULL DEFAULT '{30,15,10,10,5,10,10,5,5}'
                            CHECK (cardinality(weights) = 9 AND 0 <= ALL (weights) AND 100 >= ALL (weights)),
    department_rule         smallint NOT NULL DEFAULT 1 CHECK (department_rule BETWEEN 1 AND 3),
    min_seniority_gap       int NOT NULL DEFAULT 0 CHECK (min_seniority_gap BETWEEN 0 AND 10),
    require_shared_language boolean NOT NULL DEFAULT false,
    require_mentor_training boolean NOT NULL DEFAULT false,
    state                   smallint NOT NULL DEFAULT 1 CHECK (state BETWEEN 1 AND 5),
    created_by              bigint,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name),
    CHECK (end_date IS NULL OR start_date IS NULL OR end_date >= start_date)
);

CREATE TABLE program_coordinators (
    org_id      bigint NOT NULL,
    program_id  bigint NOT NULL,
    user_id     bigint NOT NULL,
    assigned_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, program_id, user_id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id)
);

CREATE TABLE participants (
    org_id       bigint NOT NULL,
    program_id   bigint NOT NULL,
    user_id      bigint NOT NULL,
    role         smallint NOT NULL CHECK (role IN (1, 2)),   -- 1 mentor, 2 mentee
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'withdrawn')),
    profile_pb   bytea NOT NULL DEFAULT '',                    -- mentor.v1.Profile
    manager_id   bigint,
    department   text NOT NULL DEFAULT '',
    time_zone    text NOT NULL DEFAULT '',
    capacity     int NOT NULL DEFAULT 0 CHECK (capacity BETWEEN 0 AND 10),
    enrolled_at  timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    PRIMARY KEY (org_id, program_id, user_id),
    FOREIGN KEY (org_id, program_id) REFERENCES programs(org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users(org_id, id),
    FOREIGN KEY (org_id, manager_id) REFERENCES users(org_id, id),
    CHECK (manager_id IS NULL OR manager_id <> user_id)
);
CREATE INDEX participants_user ON participants (org_id, user_id);

-- One skill vocabulary per organization: every normalized skill name used
-- in a profile.
CREATE TABLE skills (
    org_id     bigint NOT NULL REFERENCES orgs(id),
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    first_seen timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, name)
);

ALTER TABLE programs ENABLE ROW LEVEL SECURITY;
ALTER TABLE programs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON programs USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());
ALTER TABLE program_coordinators ENABLE ROW LEVEL SECURITY;
ALTER TABLE program_coordinators FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON program_coordinators USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());
ALTER TABLE participants ENABLE ROW LEVEL SECURITY;
ALTER TABLE participants FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON participants USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());
ALTER TABLE skills ENABLE ROW LEVEL SECURITY;
ALTER TABLE skills FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON skills USING (org_id = md_current_org()) WITH CHECK (org_id = md_current_org());

GRANT SELECT, INSERT, UPDATE, DELETE ON programs, program_coordinators, participants, skills TO mentord_app;

CREATE FUNCTION md_caller() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.user_id', true), '')::bigint
$$;

-- What the caller is to a program: 'admin', 'coordinator' (assigned),
-- 'participant' (active), 'viewer' (the program is enrolling), or NULL
-- (may not see it). Raises MDA04 when the program does not exist in the
-- caller's organization.
CREATE FUNCTION md_program_access(p_program bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_state smallint;
    v_role smallint;
BEGIN
    SELECT state INTO v_state FROM programs WHERE org_id = md_current_org() AND id = p_program;
    IF v_state IS NULL THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04';
    END IF;
    SELECT role INTO v_role FROM users WHERE org_id = md_current_org() AND id = md_caller();
    IF v_role = 3 THEN
        RETURN 'admin';
    END IF;
    -- An assignment counts only while the user still has the coordinator
    -- role: demoting a coordinator takes their programs away at once.
    IF v_role >= 2 AND EXISTS (SELECT 1 FROM program_coordinators c WHERE c.org_id = md_current_org()
               AND c.program_id = p_program AND c.user_id = md_caller()) THEN
        RETURN 'coordinator';
    END IF;
    IF EXISTS (SELECT 1 FROM participants p WHERE p.org_id = md_current_org()
               AND p.program_id = p_program AND p.user_id = md_caller() AND p.status = 'active') THEN
        RETURN 'participant';
    END IF;
    IF v_state = 2 THEN
        RETURN 'viewer';
    END IF;
    RETURN NULL;
END
$$;

-- Raises unless the caller runs the program (admin or assigned coordinator).
-- A program the caller may not even see is reported as not found.
CREATE FUNCTION md_program_require_manager(p_program bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_access text := md_program_access(p_program);
BEGIN
    IF v_access IS NULL THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04';
    END IF;
    IF v_access NOT IN ('admin', 'coordinator') THEN
        RAISE EXCEPTION 'only admins and the program''s coordinators may do this' USING ERRCODE = 'MDA03';
    END IF;
END
$$;

-- Moves a program along its lifecycle, refusing the moves that make no sense.
CREATE FUNCTION md_program_transition(p_program bigint, p_to smallint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_from smallint;
    v_names text[] := ARRAY['draft', 'enrolling', 'matching', 'active', 'closed'];
BEGIN
    PERFORM md_program_require_manager(p_program);
    SELECT state INTO v_from FROM programs WHERE org_id = md_current_org() AND id = p_program FOR UPDATE;
    IF p_to < 1 OR p_to > 5 THEN
        RAISE EXCEPTION 'unknown program state %', p_to USING ERRCODE = '22023';
    END IF;
    IF NOT ((v_from = 1 AND p_to = 2) OR (v_from = 2 AND p_to IN (1, 3)) OR
            (v_from = 3 AND p_to IN (2, 4)) OR (v_from = 4 AND p_to = 5) OR
            (v_from IN (1, 2, 3) AND p_to = 5)) THEN
        RAISE EXCEPTION 'a program cannot go from % to %', v_names[v_from], v_names[p_to]
            USING ERRCODE = 'MDA09';
    END IF;
    UPDATE programs SET state = p_to, updated_at = now()
     WHERE org_id = md_current_org() AND id = p_program;
END
$$;

-- Decides whether the caller may enroll p_user (or change that enrollment)
-- in the program: managers may enroll anyone while the program is not
-- closed; a member only themself, and only while it is enrolling.
CREATE FUNCTION md_participant_require_enroll(p_program bigint, p_user bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_access text := md_program_access(p_program);
    v_state smallint;
BEGIN
    SELECT state INTO v_state FROM programs WHERE org_id = md_current_org() AND id = p_program;
    IF v_access IS NULL THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04';
    END IF;
    IF v_state = 5 THEN
        RAISE EXCEPTION 'the program is closed' USING ERRCODE = 'MDA09';
    END IF;
    IF v_access IN ('admin', 'coordinator') THEN
        RETURN;
    END IF;
    IF p_user <> md_caller() THEN
        RAISE EXCEPTION 'members may enroll only themselves' USING ERRCODE = 'MDA03';
    END IF;
    IF v_state <> 2 THEN
        RAISE EXCEPTION 'the program is not open for enrollment' USING ERRCODE = 'MDA09';
    END IF;
END
$$;

-- Raises unless the program is still open (not closed).
CREATE FUNCTION md_program_require_open(p_program bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF (SELECT state FROM programs WHERE org_id = md_current_org() AND id = p_program) = 5 THEN
        RAISE EXCEPTION 'the program is closed' USING ERRCODE = 'MDA09';
    END IF;
END
$$;

-- Decides whether the caller may see or edit p_user's participation: the
-- participant themself or the program's managers.
CREATE FUNCTION md_participant_require_self_or_manager(p_program bigint, p_user bigint) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_access text := md_program_access(p_program);
BEGIN
    IF v_access IN ('admin', 'coordinator') THEN
        RETURN v_access;
    END IF;
    IF p_user = md_caller() THEN
        RETURN 'self';
    END IF;
    IF v_access IS NULL THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04';
    END IF;
    RAISE EXCEPTION 'only the participant and the program''s coordinators may do this' USING ERRCODE = 'MDA03';
END
$$;

CREATE FUNCTION md_valid_time_zone(p_tz text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT p_tz = '' OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = p_tz)
$$;

-- Assigns (or removes) a coordinator of a program. The caller's admin role
-- is checked by md_request_begin.
CREATE FUNCTION md_program_assign(p_program bigint, p_user bigint, p_remove boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_role smallint;
    v_active boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM programs WHERE org_id = md_current_org() AND id = p_program) THEN
        RAISE EXCEPTION 'no such program in your organization' USING ERRCODE = 'MDA04',
            DETAIL = 'program_assign_coordinator.program_id';
    END IF;
    IF p_remove THEN
        DELETE FROM program_coordinators
         WHERE org_id = md_current_org() AND program_id = p_program AND user_id = p_user;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'that user is not a coordinator of this program' USING ERRCODE = 'MDA04',
                DETAIL = 'program_assign_coordinator.user_id';
        END IF;
        RETURN;
    END IF;
    SELECT role, active INTO v_role, v_active FROM users WHERE org_id = md_current_org() AND id = p_user;
    IF v_role IS NULL THEN
        RAISE EXCEPTION 'no such user in your organization' USING ERRCODE = 'MDA04',
            DETAIL = 'program_assign_coordinator.user_id';
    END IF;
    IF NOT v_active THEN
        RAISE EXCEPTION 'that user is deactivated' USING ERRCODE = 'MDA09',
            DETAIL = 'program_assign_coordinator.user_id';
    END IF;
    IF v_role < 2 THEN
        RAISE EXCEPTION 'only coordinators and admins can run a program; change the user''s role first'
            USING ERRCODE = 'MDA09', DETAIL = 'program_assign_coordinator.user_id';
    END IF;
    INSERT INTO program_coordinators (org_id, program_id, user_id)
    VALUES (md_current_org(), p_program, p_user) ON CONFLICT DO NOTHING;
END
$$;

-- Checks the references inside a profile: the manager is another user of
-- the organization and the time zone is known.
CREATE FUNCTION md_profile_check(p_user bigint, p_manager bigint, p_tz text, p_field text) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_manager IS NOT NULL THEN
        IF p_manager = p_user THEN
            RAISE EXCEPTION 'a participant cannot be their own manager' USING ERRCODE = 'MDA22',
                DETAIL = p_field || '.manager_id';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM users WHERE org_id = md_current_org() AND id = p_manager) THEN
            RAISE EXCEPTION 'the manager is not a user of your organization' USING ERRCODE = 'MDA22',
                DETAIL = p_field || '.manager_id';
        END IF;
    END IF;
    IF NOT md_valid_time_zone(p_tz) THEN
        RAISE EXCEPTION 'unknown time zone "%" (use an IANA name such as Europe/Paris)', p_tz
            USING ERRCODE = 'MDA22', DETAIL = p_field || '.time_zone';
    END IF;
END
$$;

-- Enrolls a user (or reactivates a withdrawn enrollment) with a profile.
CREATE FUNCTION md_participant_enroll(p_program bigint, p_user bigint, p_role smallint,
                                      p_profile bytea, p_manager bigint, p_department text,
                                      p_tz text, p_capacity int, p_skills text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_active boolean;
    v_status text;
    v_role smallint;
BEGIN
    PERFORM md_participant_require_enroll(p_program, p_user);
    SELECT active INTO v_active FROM users WHERE org_id = md_current_org() AND id = p_user;
    IF v_active IS NULL THEN
        RAISE EXCEPTION 'no such user in your organization' USING ERRCODE = 'MDA04',
            DETAIL = 'participant_enroll.user_id';
    END IF;
    IF NOT v_active THEN
        RAISE EXCEPTION 'that user is deactivated' USING ERRCODE = 'MDA09',
            DETAIL = 'participant_enroll.user_id';
    END IF;
    PERFORM md_profile_check(p_user, p_manager, p_tz, 'participant_enroll.profile');
    SELECT status, role INTO v_status, v_role FROM participants
     WHERE org_id = md_current_org() AND program_id = p_program AND user_id = p_user FOR UPDATE;
    IF v_status = 'active' THEN
        RAISE EXCEPTION 'that user is already enrolled in this program as a %',
            CASE v_role WHEN 1 THEN 'mentor' ELSE 'mentee' END
            USING ERRCODE = 'MDA06', DETAIL = 'participant_enroll.user_id';
    END IF;
    INSERT INTO participants (org_id, program_id, user_id, role, profile_pb, manager_id,
                              department, time_zone, capacity)
    VALUES (md_current_org(), p_program, p_user, p_role, p_profile, p_manager, p_department,
            p_tz, p_capacity)
    ON CONFLICT (org_id, program_id, user_id) DO UPDATE
       SET role = EXCLUDED.role, status = 'active', enrolled_at = now(), updated_at = now(),
           withdrawn_at = NULL,
           -- Re-enrolling without a profile keeps the one from before.
           profile_pb = CASE WHEN length(EXCLUDED.profile_pb) = 0 THEN participants.profile_pb
                             ELSE EXCLUDED.profile_pb END,
           manager_id = CASE WHEN length(EXCLUDED.profile_pb) = 0 THEN participants.manager_id
                             ELSE EXCLUDED.manager_id END,
           department = CASE WHEN length(EXCLUDED.profile_pb) = 0 THEN participants.department
                             ELSE EXCLUDED.department END,
           time_zone = CASE WHEN length(EXCLUDED.profile_pb) = 0 THEN participants.time_zone
                            ELSE EXCLUDED.time_zone END,
           capacity = CASE WHEN length(EXCLUDED.profile_pb) = 0 THEN participants.capacity
                           ELSE EXCLUDED.capacity END;
    INSERT INTO skills (org_id, name) SELECT md_current_org(), unnest(p_skills)
    ON CONFLICT DO NOTHING;
END
$$;

-- Writes a profile read earlier, if nobody changed it since (p_seen is the
-- updated_at that was read); raises MDA40 otherwise so the caller retries.
CREATE FUNCTION md_profile_write(p_program bigint, p_user bigint, p_profile bytea,
                                 p_manager bigint, p_department text, p_tz text,
                                 p_capacity int, p_skills text[], p_seen timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM md_participant_require_self_or_manager(p_program, p_user);
    IF (SELECT state FROM programs WHERE org_id = md_current_org() AND id = p_program) = 5 THEN
        RAISE EXCEPTION 'the program is closed' USING ERRCODE = 'MDA09';
    END IF;
    PERFORM md_profile_check(p_user, p_manager, p_tz, 'profile_update.profile');
    UPDATE participants SET profile_pb = p_profile, manager_id = p_manager,
           department = p_department, time_zone = p_tz, capacity = p_capacity, updated_at = now()
     WHERE org_id = md_current_org() AND program_id = p_program AND user_id = p_user
       AND updated_at = p_seen;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the profile changed meanwhile' USING ERRCODE = 'MDA40';
    END IF;
    INSERT INTO skills (org_id, name) SELECT md_current_org(), unnest(p_skills)
    ON CONFLICT DO NOTHING;
END
$$;

REVOKE EXECUTE ON FUNCTION md_program_access(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_program_require_manager(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_program_transition(bigint, smallint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_participant_require_enroll(bigint, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_participant_require_self_or_manager(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_program_access(bigint) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_program_require_manager(bigint) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_program_transition(bigint, smallint) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_participant_require_enroll(bigint, bigint) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_participant_require_self_or_manager(bigint, bigint) TO mentord_app;
REVOKE EXECUTE ON FUNCTION md_program_require_open(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_program_require_open(bigint) TO mentord_app;
REVOKE EXECUTE ON FUNCTION md_program_assign(bigint, bigint, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_profile_check(bigint, bigint, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_participant_enroll(bigint, bigint, smallint, bytea, bigint, text, text, int, text[]) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION md_profile_write(bigint, bigint, bytea, bigint, text, text, int, text[], timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION md_program_assign(bigint, bigint, boolean) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_profile_check(bigint, bigint, text, text) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_participant_enroll(bigint, bigint, smallint, bytea, bigint, text, text, int, text[]) TO mentord_app;
GRANT EXECUTE ON FUNCTION md_profile_write(bigint, bigint, bytea, bigint, text, text, int, text[], timestamptz) TO mentord_app;
