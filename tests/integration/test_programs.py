"""Programs, participants and profiles (Request kinds 40-54).

Most tests speak the raw protocol (a client built from proto/mentor.proto
only), so they hold whatever mentorctl does; a few at the end go through
mentorctl's `program`, `participant` and `profile` commands.

Covered: program creation (admin only, defaults, validation, unique names),
the lifecycle (allowed and refused transitions, nothing changes once
closed), who sees and runs which program (admin, assigned and unassigned
coordinators, members), coordinator assignment, enrollment rules (self
enrollment while enrolling, one role per program, withdrawal and
re-enrollment, deactivated users), participant listing and showing,
profiles (normalization, validation naming the field, update masks, who may
edit, attributes shown only to the participant) and isolation between
organizations (everything of one is NOT_FOUND from another, without leaking
existence).

All tests share one server per module; every test makes its own users and
programs with unique names.
"""

import json
import os
import time
import types

import pytest

import harness
from harness import ADMIN_EMAIL, ADMIN_PASSWORD, ORG

DEFAULT_WEIGHTS = dict(
    skills=30, goals=15, interests=10, seniority=10, department=5,
    time_zone=10, language=10, availability=5, preferences=5,
)
WEIGHT_FIELDS = list(DEFAULT_WEIGHTS)

# An id no object on a fresh server has.
NO_SUCH_ID = 9_000_000_000_000


# ---------------------------------------------------------------------------
# Raw-protocol actors


def code_name(pb, code):
    try:
        return pb.Code.Name(code)
    except ValueError:
        return str(code)


class Refused(AssertionError):
    pass


class Actor:
    """One logged-in connection: a user of some organization."""

    def __init__(self, pb, conn, user, org_slug, server=None):
        self.server = server
        self.pb = pb
        self.conn = conn
        self.user = user
        self.id = user.id
        self.email = user.email
        self.org = org_slug

    def __repr__(self):
        return "<%s %s>" % (self.pb.Role.Name(self.user.role), self.email)

    def call(self, kind, msg=None, **fields):
        if msg is None:
            # Build the message here: RawConn.build takes `id` as the
            # request id, and several messages have a field named id.
            msg = type(getattr(self.pb.Request(), kind))(**fields)
        try:
            return self.conn.call(kind, msg)
        except (harness.ConnectionClosed, OSError) as e:
            # Most likely the server died (a crash, a sanitizer report).
            tail = self.server.log_tail(30) if self.server is not None else ""
            raise harness.HarnessError("%s by %r: connection lost (%r)\n%s" % (kind, self, e, tail))

    def ok(self, kind, msg=None, **fields):
        """Send, require OK, return the result message."""
        r = self.call(kind, msg, **fields)
        if r.status.code != self.pb.OK:
            raise Refused(
                "%s by %r: expected OK, got %s: %s (field %r)\nrequest: %s"
                % (kind, self, code_name(self.pb, r.status.code), r.status.message,
                   r.status.field, msg if msg is not None else fields)
            )
        which = r.WhichOneof("result")
        assert which is not None, "%s answered OK without a result" % kind
        return getattr(r, which)

    def check(self, problems, kind, codes, msg=None, **fields):
        """Like fail(), but a different answer is appended to `problems`
        (a list) instead of raised, so one test can report every case."""
        if isinstance(codes, str):
            codes = (codes,)
        r = self.call(kind, msg, **fields)
        got = code_name(self.pb, r.status.code)
        if got not in codes:
            req = msg if msg is not None else fields
            problems.append("%s by %r {%s}: expected %s, got %s %s"
                            % (kind, self, str(req).replace("\n", " ").strip(),
                               "/".join(codes), got, r.status.message))
            return None
        return r.status

    def fail(self, kind, codes, msg=None, **fields):
        """Send, require one of `codes` (a name or a tuple of names); return
        the Status."""
        if isinstance(codes, str):
            codes = (codes,)
        r = self.call(kind, msg, **fields)
        got = code_name(self.pb, r.status.code)
        assert got in codes, (
            "%s by %r: expected %s, got %s: %s (field %r)\nrequest: %s\nresult: %s"
            % (kind, self, "/".join(codes), got, r.status.message, r.status.field,
               msg if msg is not None else fields, r)
        )
        assert r.status.message, "an error status must carry a message"
        assert r.WhichOneof("result") is None, "an error response carries no result"
        return r.status


def connect(server, pb):
    c = harness.RawConn(pb, server.port, server.ca_path)
    r = c.hello()
    assert r.status.code == pb.OK, r
    return c


class World:
    """The module's server seen through raw connections: the first admin of
    org `acme`, users made on demand, and a second organization."""

    def __init__(self, server, pb):
        self.server = server
        self.pb = pb
        self.conns = []
        self.admin = self.login(ADMIN_EMAIL, ADMIN_PASSWORD, ORG)
        self._org_b = None

    def close(self):
        for c in self.conns:
            c.close()

    def _conn(self):
        c = connect(self.server, self.pb)
        self.conns.append(c)
        return c

    def login(self, email, password, org):
        c = self._conn()
        r = c.login(email=email, password=password, org=org)
        assert r.status.code == self.pb.OK, "login %s/%s: %s" % (org, email, r.status)
        return Actor(self.pb, c, r.login.user, org, self.server)

    def login_as(self, actor):
        """Another connection logged in as `actor`, resuming their session."""
        c = self._conn()
        r = c.call("login", self.pb.Login(session_token=actor.token))
        assert r.status.code == self.pb.OK, "resume %s: %s" % (actor.email, r.status)
        return c

    def accept(self, code, org):
        c = self._conn()
        password = "pw-" + harness.unique("p")
        r = c.call("invite_accept", code=code, password=password)
        assert r.status.code == self.pb.OK, "invite accept: %s" % r.status
        a = Actor(self.pb, c, r.invite_accept.user, org, self.server)
        a.token = r.invite_accept.session_token
        return a

    def user(self, role="member", admin=None, name=None):
        """A new user invited by `admin` (default: acme's admin), logged in."""
        admin = admin or self.admin
        role_value = {"member": self.pb.MEMBER, "coordinator": self.pb.COORDINATOR,
                      "admin": self.pb.ADMIN}[role]
        email = "%s@%s.test" % (harness.unique(role), admin.org)
        rep = admin.ok("user_invite", email=email, display_name=name or "Test %s" % role.title(),
                       role=role_value)
        return self.accept(rep.invite_code, admin.org)

    def org_b(self):
        """A second organization (made once) and its first admin."""
        if self._org_b is None:
            slug = harness.unique("orgb")
            rep = self.admin.ok("org_create", slug=slug, name="Beta Org",
                                admin_email="boss@%s.test" % slug, admin_display_name="Bea Boss")
            self._org_b = self.accept(rep.invite_code, slug)
        return self._org_b

    # -- programs ----------------------------------------------------------

    def program_msg(self, name=None, **fields):
        p = self.pb.Program(name=name or harness.unique("prog"))
        for k, v in fields.items():
            if k == "weights":
                p.weights.CopyFrom(self.pb.MatchingWeights(**v) if isinstance(v, dict) else v)
            elif k == "rules":
                p.rules.CopyFrom(self.pb.MatchingRules(**v) if isinstance(v, dict) else v)
            elif k == "objectives":
                p.objectives.extend(v)
            else:
                setattr(p, k, v)
        return p

    def program(self, state="DRAFT", admin=None, coordinators=(), **fields):
        """Create a program (as `admin`) and walk it to `state`."""
        admin = admin or self.admin
        prog = admin.ok("program_create", self.pb.ProgramCreate(program=self.program_msg(**fields)))
        for c in coordinators:
            admin.ok("program_assign_coordinator", program_id=prog.id, user_id=c.id)
        for step in PATH[state]:
            prog = transition(admin, prog.id, step)
        assert self.pb.ProgramState.Name(prog.state) == state
        return prog


PATH = {
    "DRAFT": [],
    "ENROLLING": ["ENROLLING"],
    "MATCHING": ["ENROLLING", "MATCHING"],
    "ACTIVE": ["ENROLLING", "MATCHING", "ACTIVE"],
    "CLOSED": ["ENROLLING", "MATCHING", "ACTIVE", "CLOSED"],
}


def transition(actor, program_id, to):
    pb = actor.pb
    return actor.ok("program_transition",
                    pb.ProgramTransition(id=program_id, to=pb.ProgramState.Value(to)))


def state_name(pb, prog):
    return pb.ProgramState.Name(prog.state)


def enroll(actor, program_id, role, user=None, profile=None, codes=None):
    """ParticipantEnroll; user None means 0 (the caller)."""
    pb = actor.pb
    msg = pb.ParticipantEnroll(program_id=program_id, user_id=user.id if user else 0,
                               role=pb.ParticipantRole.Value(role))
    if profile is not None:
        msg.profile.CopyFrom(profile)
    if codes:
        return actor.fail("participant_enroll", codes, msg)
    return actor.ok("participant_enroll", msg)


def profile_update(actor, program_id, profile, mask, user=None, codes=None):
    pb = actor.pb
    msg = pb.ProfileUpdate(program_id=program_id, user_id=user.id if user else 0,
                           profile=profile, update_mask=list(mask))
    if codes:
        return actor.fail("profile_update", codes, msg)
    return actor.ok("profile_update", msg)


def listed_ids(actor, state=None):
    pb = actor.pb
    msg = pb.ProgramList(state=pb.ProgramState.Value(state) if state else 0)
    return [p.id for p in actor.ok("program_list", msg).programs]


def participants(actor, program_id, role=None, include_withdrawn=False):
    pb = actor.pb
    msg = pb.ParticipantList(program_id=program_id, include_withdrawn=include_withdrawn,
                             role=pb.ParticipantRole.Value(role) if role else 0)
    return {p.user_id: p for p in actor.ok("participant_list", msg).participants}


def weights_dict(w):
    return {f: getattr(w, f) for f in WEIGHT_FIELDS}


def recent(unix_secs, slack=600):
    return abs(time.time() - unix_secs) < slack


@pytest.fixture(scope="module")
def world(server, pb):
    w = World(server, pb)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def admin(world):
    """Overrides conftest's mentorctl `admin`: here the raw admin actor."""
    return world.admin


# ---------------------------------------------------------------------------
# ProgramCreate


def test_create_gets_defaults(world, pb, admin):
    name = harness.unique("Defaults")
    prog = admin.ok("program_create", pb.ProgramCreate(program=pb.Program(name=name)))
    assert prog.id > 0
    assert prog.name == name
    assert state_name(pb, prog) == "DRAFT"
    assert prog.checkin_cadence_days == 14
    assert prog.default_mentor_capacity == 2
    assert weights_dict(prog.weights) == DEFAULT_WEIGHTS
    assert prog.rules.department in (pb.DEPARTMENT_RULE_UNSPECIFIED, pb.DEPARTMENT_ANY)
    assert prog.rules.min_seniority_gap == 0
    assert list(prog.coordinator_ids) == []
    assert prog.mentor_count == 0 and prog.mentee_count == 0
    assert recent(prog.created_at), "created_at %d is not now" % prog.created_at
    assert prog.start_date == "" and prog.end_date == ""

    shown = admin.ok("program_show", id=prog.id)
    assert shown == prog
    assert prog.id in listed_ids(admin)


def test_create_round_trips_every_field(world, pb, admin):
    weights = dict(skills=50, goals=0, interests=1, seniority=2, department=3,
                   time_zone=4, language=100, availability=6, preferences=7)
    want = world.program_msg(
        description="Grow the next tech leads.",
        objectives=["Ship a design doc", "Lead a retro"],
        mentor_expectations="An hour every two weeks",
        mentee_expectations="Come prepared",
        checkin_cadence_days=7,
        start_date="2026-01-05",
        end_date="2026-06-30",
        default_mentor_capacity=3,
        weights=weights,
        rules=dict(department=pb.DEPARTMENT_DIFFERENT, min_seniority_gap=2,
                   require_shared_language=True, require_mentor_training=True),
    )
    # Server-set fields are ignored when given.
    want_state = pb.Program()
    want_state.CopyFrom(want)
    want.state = pb.ACTIVE
    want.mentor_count = 5
    prog = admin.ok("program_create", pb.ProgramCreate(program=want))
    assert state_name(pb, prog) == "DRAFT"
    assert prog.mentor_count == 0
    for f in ("name", "description", "mentor_expectations", "mentee_expectations",
              "checkin_cadence_days", "start_date", "end_date", "default_mentor_capacity"):
        assert getattr(prog, f) == getattr(want_state, f), f
    assert list(prog.objectives) == ["Ship a design doc", "Lead a retro"]
    assert weights_dict(prog.weights) == weights
    assert prog.rules == want_state.rules
    assert admin.ok("program_show", id=prog.id) == prog


def test_only_admins_create_programs(world, pb):
    tried = []
    for role in ("coordinator", "member"):
        who = world.user(role)
        tried.append(harness.unique("nope"))
        who.fail("program_create", "PERMISSION_DENIED",
                 pb.ProgramCreate(program=pb.Program(name=tried[-1])))
    # Nothing was created on the way.
    names = [p.name for p in world.admin.ok("program_list").programs]
    assert not set(tried) & set(names)


BAD_PROGRAMS = [
    ("empty name", dict(name=""), "name"),
    ("name too long", dict(name="x" * 201), "name"),
    ("cadence 400", dict(checkin_cadence_days=400), "checkin_cadence_days"),
    ("capacity 11", dict(default_mentor_capacity=11), "default_mentor_capacity"),
    ("end before start", dict(start_date="2026-03-01", end_date="2026-02-28"), "end_date"),
    ("month 13", dict(start_date="2026-13-01"), "start_date"),
    ("february 30", dict(end_date="2026-02-30"), "end_date"),
    ("not a date", dict(start_date="next monday"), "start_date"),
    ("weight 101", dict(weights=dict(DEFAULT_WEIGHTS, language=101)), "weights"),
    ("seniority gap 11", dict(rules=dict(min_seniority_gap=11)), "min_seniority_gap"),
    ("empty objective", dict(objectives=["fine", ""]), "objectives"),
    ("51 objectives", dict(objectives=["o%d" % i for i in range(51)]), "objectives"),
]


@pytest.mark.parametrize("what,fields,field", BAD_PROGRAMS, ids=[b[0] for b in BAD_PROGRAMS])
def test_create_validation(world, pb, admin, what, fields, field):
    fields = dict(fields)
    name = fields.pop("name", None)
    msg = world.program_msg(**fields)
    if name is not None:
        msg.name = name
    st = admin.fail("program_create", "INVALID_ARGUMENT", pb.ProgramCreate(program=msg))
    assert field in st.field, "%s: field %r should name %r" % (what, st.field, field)
    if msg.name:
        assert msg.name not in [p.name for p in admin.ok("program_list").programs]


def test_duplicate_name_in_org(world, pb, admin):
    prog = world.program()
    st = admin.fail("program_create", "ALREADY_EXISTS",
                    pb.ProgramCreate(program=pb.Program(name=prog.name)))
    assert st.field == "program_create.program.name", st
    # Renaming another program to that name is refused the same way.
    other = world.program()
    st = admin.fail("program_update", "ALREADY_EXISTS", pb.ProgramUpdate(
        id=other.id, program=pb.Program(name=prog.name), update_mask=["name"]))
    assert st.field == "program_update.program.name", st
    assert admin.ok("program_show", id=other.id).name == other.name


# ---------------------------------------------------------------------------
# Lifecycle


def test_lifecycle_forward(world, pb, admin):
    prog = world.program()
    for to in ("ENROLLING", "MATCHING", "ACTIVE", "CLOSED"):
        prog = transition(admin, prog.id, to)
        assert state_name(pb, prog) == to
        assert state_name(pb, admin.ok("program_show", id=prog.id)) == to


REFUSED_MOVES = [
    ("DRAFT", "MATCHING"), ("DRAFT", "ACTIVE"), ("DRAFT", "DRAFT"),
    ("ENROLLING", "ACTIVE"), ("ENROLLING", "ENROLLING"),
    ("MATCHING", "DRAFT"), ("MATCHING", "MATCHING"),
    ("ACTIVE", "DRAFT"), ("ACTIVE", "ENROLLING"), ("ACTIVE", "MATCHING"),
    ("CLOSED", "DRAFT"), ("CLOSED", "ENROLLING"), ("CLOSED", "MATCHING"),
    ("CLOSED", "ACTIVE"), ("CLOSED", "CLOSED"),
]


@pytest.mark.parametrize("frm,to", REFUSED_MOVES, ids=["%s-%s" % m for m in REFUSED_MOVES])
def test_lifecycle_refused(world, pb, admin, frm, to):
    prog = world.program(state=frm)
    admin.fail("program_transition", "FAILED_PRECONDITION",
               pb.ProgramTransition(id=prog.id, to=pb.ProgramState.Value(to)))
    assert state_name(pb, admin.ok("program_show", id=prog.id)) == frm


ALLOWED_MOVES = [
    ("ENROLLING", "DRAFT"), ("MATCHING", "ENROLLING"),
    ("DRAFT", "CLOSED"), ("ENROLLING", "CLOSED"), ("MATCHING", "CLOSED"),
]


@pytest.mark.parametrize("frm,to", ALLOWED_MOVES, ids=["%s-%s" % m for m in ALLOWED_MOVES])
def test_lifecycle_back_and_early_close(world, pb, admin, frm, to):
    prog = world.program(state=frm)
    assert state_name(pb, transition(admin, prog.id, to)) == to
    assert state_name(pb, admin.ok("program_show", id=prog.id)) == to


def test_transition_to_no_state(world, pb, admin):
    prog = world.program()
    admin.fail("program_transition", ("INVALID_ARGUMENT", "FAILED_PRECONDITION"),
               pb.ProgramTransition(id=prog.id, to=pb.PROGRAM_STATE_UNSPECIFIED))
    assert state_name(pb, admin.ok("program_show", id=prog.id)) == "DRAFT"


def test_closed_program_is_frozen(world, pb, admin):
    coord = world.user("coordinator")
    member = world.user("member")
    prog = world.program(state="ENROLLING", coordinators=[coord])
    enroll(admin, prog.id, "MENTEE", member)
    transition(admin, prog.id, "CLOSED")
    for who in (admin, coord):
        who.fail("program_update", "FAILED_PRECONDITION", pb.ProgramUpdate(
            id=prog.id, program=pb.Program(description="late"), update_mask=["description"]))
        enroll(who, prog.id, "MENTOR", world.user(), codes="FAILED_PRECONDITION")
    # A participant of a closed program can neither enroll again nor edit.
    enroll(member, prog.id, "MENTEE", codes=("FAILED_PRECONDITION", "ALREADY_EXISTS"))
    profile_update(member, prog.id, pb.Profile(department="Late"), ["department"],
                   codes="FAILED_PRECONDITION")
    profile_update(admin, prog.id, pb.Profile(department="Late"), ["department"], user=member,
                   codes="FAILED_PRECONDITION")
    shown = admin.ok("program_show", id=prog.id)
    assert shown.description == "" and state_name(pb, shown) == "CLOSED"


def test_unknown_program_is_not_found(world, pb, admin):
    admin.fail("program_show", "NOT_FOUND", id=NO_SUCH_ID)
    admin.fail("program_update", "NOT_FOUND", pb.ProgramUpdate(
        id=NO_SUCH_ID, program=pb.Program(description="x"), update_mask=["description"]))
    admin.fail("program_transition", "NOT_FOUND",
               pb.ProgramTransition(id=NO_SUCH_ID, to=pb.ENROLLING))
    admin.fail("program_assign_coordinator", "NOT_FOUND", program_id=NO_SUCH_ID,
               user_id=admin.id)
    admin.fail("participant_list", "NOT_FOUND", program_id=NO_SUCH_ID)
    enroll(admin, NO_SUCH_ID, "MENTOR", world.user(), codes="NOT_FOUND")


# ---------------------------------------------------------------------------
# ProgramUpdate


def test_update_changes_only_masked_fields(world, pb, admin):
    prog = world.program(description="before", checkin_cadence_days=21,
                         objectives=["keep me"], start_date="2026-01-01")
    # Everything is filled in the message, but only the mask counts.
    change = world.program_msg(name=harness.unique("renamed"), description="after",
                               checkin_cadence_days=30, objectives=["new"],
                               default_mentor_capacity=5, start_date="2026-02-01")
    got = admin.ok("program_update", pb.ProgramUpdate(
        id=prog.id, program=change, update_mask=["description", "default_mentor_capacity"]))
    assert got.description == "after"
    assert got.default_mentor_capacity == 5
    assert got.name == prog.name
    assert got.checkin_cadence_days == 21
    assert list(got.objectives) == ["keep me"]
    assert got.start_date == "2026-01-01"
    assert got.id == prog.id and got.created_at == prog.created_at
    assert admin.ok("program_show", id=prog.id) == got

    # Weights are replaced as a whole; rules too.
    w = dict(DEFAULT_WEIGHTS, skills=80, preferences=0)
    got = admin.ok("program_update", pb.ProgramUpdate(
        id=prog.id, program=world.program_msg(weights=w, rules=dict(
            department=pb.DEPARTMENT_SAME, min_seniority_gap=1)),
        update_mask=["weights", "rules"]))
    assert weights_dict(got.weights) == w
    assert got.rules.department == pb.DEPARTMENT_SAME
    assert got.rules.min_seniority_gap == 1
    assert got.description == "after"

    # Clearing a date through the mask.
    got = admin.ok("program_update", pb.ProgramUpdate(
        id=prog.id, program=pb.Program(), update_mask=["start_date"]))
    assert got.start_date == ""


def test_update_validation(world, pb, admin):
    prog = world.program(start_date="2026-03-01", end_date="2026-04-01")
    cases = [
        (pb.Program(default_mentor_capacity=11), ["default_mentor_capacity"],
         "default_mentor_capacity"),
        (pb.Program(checkin_cadence_days=366), ["checkin_cadence_days"], "checkin_cadence_days"),
        # The stored start date is 2026-03-01.
        (pb.Program(end_date="2026-02-01"), ["end_date"], "end_date"),
        (pb.Program(start_date="2026-05-01"), ["start_date"], "start_date"),
        (pb.Program(start_date="2026-05-01", end_date="2026-04-30"), ["start_date", "end_date"],
         "end_date"),
        (pb.Program(start_date="2026-13-01"), ["start_date"], "start_date"),
        (pb.Program(name=""), ["name"], "name"),
        (pb.Program(description="x"), ["description", "colour"], "update_mask"),
        (pb.Program(description="x"), ["state"], "update_mask"),
    ]
    problems = []
    for program, mask, field in cases:
        st = admin.check(problems, "program_update", "INVALID_ARGUMENT",
                         pb.ProgramUpdate(id=prog.id, program=program, update_mask=mask))
        if st is not None and field not in st.field:
            problems.append("mask %s (%s): field %r should name %r (message %r)"
                            % (mask, program, st.field, field, st.message))
    assert not problems, "\n".join(problems)
    # Nothing of the refused updates stuck.
    shown = admin.ok("program_show", id=prog.id)
    assert shown.description == "" and shown.end_date == "2026-04-01"
    assert state_name(pb, shown) == "DRAFT"


# ---------------------------------------------------------------------------
# Who sees and runs what


def test_admin_sees_every_program(world, pb, admin):
    progs = {s: world.program(state=s) for s in PATH}
    ids = listed_ids(admin)
    for s, p in progs.items():
        assert p.id in ids, "admin does not see the %s program" % s
    # Newest first.
    created = [progs[s].id for s in PATH]
    positions = [ids.index(i) for i in created]
    assert positions == sorted(positions, reverse=True), "ProgramList is not newest first"
    # The state filter.
    enrolling = listed_ids(admin, "ENROLLING")
    assert progs["ENROLLING"].id in enrolling
    assert progs["DRAFT"].id not in enrolling
    for p in admin.ok("program_list", state=pb.ENROLLING).programs:
        assert state_name(pb, p) == "ENROLLING"


def test_assigned_coordinator_runs_the_program(world, pb, admin):
    coord = world.user("coordinator")
    prog = world.program()
    got = admin.ok("program_assign_coordinator", program_id=prog.id, user_id=coord.id)
    assert list(got.coordinator_ids) == [coord.id]
    assert list(admin.ok("program_show", id=prog.id).coordinator_ids) == [coord.id]

    assert coord.ok("program_show", id=prog.id).id == prog.id
    assert prog.id in listed_ids(coord)
    got = coord.ok("program_update", pb.ProgramUpdate(
        id=prog.id, program=pb.Program(description="run by coord"), update_mask=["description"]))
    assert got.description == "run by coord"
    assert state_name(pb, transition(coord, prog.id, "ENROLLING")) == "ENROLLING"
    assert participants(coord, prog.id) == {}
    member = world.user()
    enroll(coord, prog.id, "MENTEE", member)
    assert set(participants(coord, prog.id)) == {member.id}
    # Coordinators still cannot create programs nor assign coordinators.
    coord.fail("program_assign_coordinator", "PERMISSION_DENIED",
               program_id=prog.id, user_id=world.user("coordinator").id)
    coord.fail("program_assign_coordinator", "PERMISSION_DENIED",
               program_id=prog.id, user_id=coord.id, remove=True)
    assert list(admin.ok("program_show", id=prog.id).coordinator_ids) == [coord.id]


def test_unassigned_coordinator(world, pb, admin):
    coord = world.user("coordinator")
    other = world.user("coordinator")
    draft = world.program(coordinators=[other])
    enrolling = world.program(state="ENROLLING", coordinators=[other])

    # A draft program of someone else does not exist for them.
    coord.fail("program_show", "NOT_FOUND", id=draft.id)
    coord.fail("program_update", "NOT_FOUND", pb.ProgramUpdate(
        id=draft.id, program=pb.Program(description="x"), update_mask=["description"]))
    coord.fail("program_transition", "NOT_FOUND",
               pb.ProgramTransition(id=draft.id, to=pb.ENROLLING))
    coord.fail("participant_list", "NOT_FOUND", program_id=draft.id)
    enroll(coord, draft.id, "MENTOR", world.user(), codes="NOT_FOUND")

    # An enrolling one is visible, but not theirs to run.
    assert coord.ok("program_show", id=enrolling.id).id == enrolling.id
    coord.fail("program_update", "PERMISSION_DENIED", pb.ProgramUpdate(
        id=enrolling.id, program=pb.Program(description="x"), update_mask=["description"]))
    coord.fail("program_transition", "PERMISSION_DENIED",
               pb.ProgramTransition(id=enrolling.id, to=pb.MATCHING))
    coord.fail("participant_list", "PERMISSION_DENIED", program_id=enrolling.id)
    enroll(coord, enrolling.id, "MENTOR", world.user(), codes="PERMISSION_DENIED")

    ids = listed_ids(coord)
    assert enrolling.id in ids and draft.id not in ids
    shown = admin.ok("program_show", id=enrolling.id)
    assert shown.description == "" and state_name(pb, shown) == "ENROLLING"
    assert state_name(pb, admin.ok("program_show", id=draft.id)) == "DRAFT"


def test_member_visibility(world, pb, admin):
    member = world.user()
    progs = {s: world.program(state=s) for s in PATH}
    ids = listed_ids(member)
    assert progs["ENROLLING"].id in ids
    for s in ("DRAFT", "MATCHING", "ACTIVE", "CLOSED"):
        assert progs[s].id not in ids, "member sees a %s program" % s
        member.fail("program_show", "NOT_FOUND", id=progs[s].id)
    assert member.ok("program_show", id=progs["ENROLLING"].id).name == progs["ENROLLING"].name
    # Not enrolled anywhere yet: every program they see is enrolling.
    for p in member.ok("program_list").programs:
        assert state_name(pb, p) == "ENROLLING", "member sees %s program %d" % (
            state_name(pb, p), p.id)

    # Taking part makes a program visible, whatever its state.
    taking_part = world.program()
    enroll(admin, taking_part.id, "MENTEE", member)
    assert member.ok("program_show", id=taking_part.id).id == taking_part.id
    assert taking_part.id in listed_ids(member)
    transition(admin, taking_part.id, "ENROLLING")
    transition(admin, taking_part.id, "MATCHING")
    assert taking_part.id in listed_ids(member)
    assert taking_part.id in listed_ids(member, "MATCHING")

    # Members cannot change programs they see.
    member.fail("program_update", "PERMISSION_DENIED", pb.ProgramUpdate(
        id=progs["ENROLLING"].id, program=pb.Program(description="x"),
        update_mask=["description"]))
    member.fail("program_transition", "PERMISSION_DENIED",
                pb.ProgramTransition(id=progs["ENROLLING"].id, to=pb.MATCHING))
    member.fail("program_transition", "PERMISSION_DENIED",
                pb.ProgramTransition(id=taking_part.id, to=pb.ACTIVE))
    member.fail("program_assign_coordinator", "PERMISSION_DENIED",
                program_id=progs["ENROLLING"].id, user_id=member.id)


def test_assign_coordinator_rules(world, pb, admin):
    prog = world.program()
    coord = world.user("coordinator")
    second_admin = world.user("admin")
    member = world.user("member")

    # Only coordinators and admins can run a program.
    admin.fail("program_assign_coordinator", ("FAILED_PRECONDITION", "INVALID_ARGUMENT"),
               program_id=prog.id, user_id=member.id)
    admin.fail("program_assign_coordinator", ("NOT_FOUND", "INVALID_ARGUMENT"),
               program_id=prog.id, user_id=NO_SUCH_ID)
    admin.fail("program_assign_coordinator", ("NOT_FOUND", "INVALID_ARGUMENT"),
               program_id=prog.id, user_id=world.org_b().id)
    assert list(admin.ok("program_show", id=prog.id).coordinator_ids) == []

    admin.ok("program_assign_coordinator", program_id=prog.id, user_id=coord.id)
    got = admin.ok("program_assign_coordinator", program_id=prog.id, user_id=second_admin.id)
    assert sorted(got.coordinator_ids) == sorted([coord.id, second_admin.id])
    assert coord.ok("program_show", id=prog.id).id == prog.id

    got = admin.ok("program_assign_coordinator", program_id=prog.id, user_id=coord.id,
                   remove=True)
    assert list(got.coordinator_ids) == [second_admin.id]
    # Unassigned: the draft program is gone for them again.
    coord.fail("program_show", "NOT_FOUND", id=prog.id)
    coord.fail("program_update", "NOT_FOUND", pb.ProgramUpdate(
        id=prog.id, program=pb.Program(description="x"), update_mask=["description"]))
    assert prog.id not in listed_ids(coord)


# ---------------------------------------------------------------------------
# Enrollment


def test_admin_enrolls_anyone(world, pb, admin):
    prog = world.program()
    mentor = world.user(name="Mona Mentor")
    mentee = world.user("coordinator", name="Cody Coord")
    p = enroll(admin, prog.id, "MENTOR", mentor)
    assert p.program_id == prog.id
    assert p.user_id == mentor.id
    assert p.email == mentor.email
    assert p.display_name == "Mona Mentor"
    assert p.role == pb.MENTOR
    assert p.status == "active"
    assert recent(p.enrolled_at)
    enroll(admin, prog.id, "MENTEE", mentee)
    # The admin can enroll themself too.
    assert enroll(admin, prog.id, "MENTOR").user_id == admin.id
    shown = admin.ok("program_show", id=prog.id)
    assert (shown.mentor_count, shown.mentee_count) == (2, 1)
    listed = participants(admin, prog.id)
    assert set(listed) == {mentor.id, mentee.id, admin.id}
    assert listed[mentee.id].role == pb.MENTEE
    assert set(participants(admin, prog.id, role="MENTOR")) == {mentor.id, admin.id}
    assert set(participants(admin, prog.id, role="MENTEE")) == {mentee.id}


def test_coordinator_enrolls_in_any_open_state(world, pb, admin):
    coord = world.user("coordinator")
    for state in ("DRAFT", "ENROLLING", "MATCHING", "ACTIVE"):
        prog = world.program(state=state, coordinators=[coord])
        m = world.user()
        assert enroll(coord, prog.id, "MENTEE", m).user_id == m.id, state


def test_member_enrolls_themself_while_enrolling(world, pb, admin):
    prog = world.program(state="ENROLLING")
    a, b = world.user(), world.user()
    p = enroll(a, prog.id, "MENTEE")
    assert p.user_id == a.id and p.role == pb.MENTEE and p.status == "active"
    p = enroll(b, prog.id, "MENTOR", b)  # own id given explicitly
    assert p.user_id == b.id and p.role == pb.MENTOR
    # Not someone else.
    c = world.user()
    enroll(a, prog.id, "MENTEE", c, codes="PERMISSION_DENIED")
    enroll(c, prog.id, "MENTOR", a, codes="PERMISSION_DENIED")
    assert set(participants(admin, prog.id)) == {a.id, b.id}
    # Now a participant, the program is theirs to see after it moves on.
    transition(admin, prog.id, "MATCHING")
    assert a.ok("program_show", id=prog.id).id == prog.id


def test_member_cannot_enroll_outside_enrolling(world, pb, admin):
    member = world.user()
    # A draft program does not exist for a member.
    enroll(member, world.program().id, "MENTEE", codes="NOT_FOUND")
    for state in ("MATCHING", "ACTIVE"):
        prog = world.program(state=state)
        enroll(member, prog.id, "MENTEE", codes=("FAILED_PRECONDITION", "NOT_FOUND"))
        assert participants(admin, prog.id) == {}
    # Withdrawn from a program that then left ENROLLING: no way back in alone.
    prog = world.program(state="ENROLLING")
    enroll(member, prog.id, "MENTEE")
    transition(admin, prog.id, "MATCHING")
    member.ok("participant_withdraw", program_id=prog.id)
    enroll(member, prog.id, "MENTEE", codes=("FAILED_PRECONDITION", "NOT_FOUND"))
    assert participants(admin, prog.id) == {}


def test_one_role_per_program(world, pb, admin):
    prog = world.program(state="ENROLLING")
    m = world.user()
    enroll(admin, prog.id, "MENTOR", m)
    enroll(admin, prog.id, "MENTOR", m, codes="ALREADY_EXISTS")
    enroll(admin, prog.id, "MENTEE", m, codes="ALREADY_EXISTS")
    enroll(m, prog.id, "MENTEE", codes="ALREADY_EXISTS")
    listed = participants(admin, prog.id)
    assert set(listed) == {m.id} and listed[m.id].role == pb.MENTOR
    shown = admin.ok("program_show", id=prog.id)
    assert (shown.mentor_count, shown.mentee_count) == (1, 0)


def test_different_roles_in_different_programs(world, pb, admin):
    a, b = world.program(state="ENROLLING"), world.program(state="ENROLLING")
    m = world.user()
    assert enroll(m, a.id, "MENTOR").role == pb.MENTOR
    assert enroll(m, b.id, "MENTEE").role == pb.MENTEE
    assert participants(admin, a.id)[m.id].role == pb.MENTOR
    assert participants(admin, b.id)[m.id].role == pb.MENTEE


def test_enroll_needs_a_role_and_an_active_user(world, pb, admin):
    prog = world.program(state="ENROLLING")
    m = world.user()
    for bad_role in (0, 3):
        st = admin.fail("participant_enroll", "INVALID_ARGUMENT",
                        pb.ParticipantEnroll(program_id=prog.id, user_id=m.id, role=bad_role))
        assert "role" in st.field
    admin.fail("participant_list", "INVALID_ARGUMENT",
               pb.ParticipantList(program_id=prog.id, role=3))
    enroll(admin, prog.id, "MENTEE", user=types.SimpleNamespace(id=NO_SUCH_ID),
           codes=("NOT_FOUND", "INVALID_ARGUMENT"))
    gone = world.user()
    admin.ok("user_deactivate", id=gone.id)
    enroll(admin, prog.id, "MENTEE", gone, codes=("FAILED_PRECONDITION", "NOT_FOUND"))
    assert participants(admin, prog.id, include_withdrawn=True) == {}


def test_withdraw_and_enroll_again(world, pb, admin):
    prog = world.program(state="ENROLLING")
    m, keep = world.user(), world.user()
    enroll(m, prog.id, "MENTEE")
    enroll(keep, prog.id, "MENTEE")
    w = m.ok("participant_withdraw", program_id=prog.id)
    assert w.user_id == m.id and w.status == "withdrawn"
    assert admin.ok("program_show", id=prog.id).mentee_count == 1
    assert set(participants(admin, prog.id)) == {keep.id}
    every = participants(admin, prog.id, include_withdrawn=True)
    assert set(every) == {m.id, keep.id}
    assert every[m.id].status == "withdrawn" and every[keep.id].status == "active"
    # The participant still sees their own (withdrawn) record.
    assert m.ok("participant_show", program_id=prog.id).status == "withdrawn"

    again = enroll(m, prog.id, "MENTEE")
    assert again.status == "active"
    assert set(participants(admin, prog.id)) == {m.id, keep.id}
    assert admin.ok("program_show", id=prog.id).mentee_count == 2


def test_participant_list_is_for_managers(world, pb, admin):
    coord = world.user("coordinator")
    prog = world.program(state="ENROLLING", coordinators=[coord])
    m = world.user()
    enroll(m, prog.id, "MENTEE")
    m.fail("participant_list", "PERMISSION_DENIED", program_id=prog.id)
    world.user().fail("participant_list", "PERMISSION_DENIED", program_id=prog.id)
    assert set(participants(coord, prog.id)) == {m.id}


def test_participant_show_and_withdraw_rights(world, pb, admin):
    coord = world.user("coordinator")
    prog = world.program(state="ENROLLING", coordinators=[coord])
    a, b = world.user(), world.user()
    enroll(a, prog.id, "MENTOR")
    enroll(b, prog.id, "MENTEE")

    assert a.ok("participant_show", program_id=prog.id).user_id == a.id
    assert a.ok("participant_show", program_id=prog.id, user_id=a.id).user_id == a.id
    assert admin.ok("participant_show", program_id=prog.id, user_id=a.id).role == pb.MENTOR
    assert coord.ok("participant_show", program_id=prog.id, user_id=a.id).email == a.email
    b.fail("participant_show", "PERMISSION_DENIED", program_id=prog.id, user_id=a.id)
    world.user("coordinator").fail("participant_show", "PERMISSION_DENIED",
                                   program_id=prog.id, user_id=a.id)
    b.fail("participant_withdraw", "PERMISSION_DENIED", program_id=prog.id, user_id=a.id)
    assert participants(admin, prog.id)[a.id].status == "active"

    # Someone not enrolled.
    outsider = world.user()
    admin.fail("participant_show", "NOT_FOUND", program_id=prog.id, user_id=outsider.id)
    outsider.fail("participant_show", "NOT_FOUND", program_id=prog.id)
    admin.fail("participant_withdraw", ("NOT_FOUND", "FAILED_PRECONDITION"), program_id=prog.id,
               user_id=outsider.id)

    assert coord.ok("participant_withdraw", program_id=prog.id, user_id=a.id).status == "withdrawn"
    assert admin.ok("participant_withdraw", program_id=prog.id, user_id=b.id).status == "withdrawn"
    assert participants(admin, prog.id) == {}
    # Not twice.
    b.fail("participant_withdraw", "FAILED_PRECONDITION", program_id=prog.id)


# ---------------------------------------------------------------------------
# Profiles


def full_profile(pb, manager_id=0):
    p = pb.Profile(
        skills_offered=[pb.Skill(name="  Public   SPEAKING ", level=4),
                        pb.Skill(name="Go", level=5)],
        skills_wanted=[pb.Skill(name="Kubernetes\tOperators", level=2)],
        career_goals=[" Engineering  Manager"],
        interests=["Rock CLIMBING", "chess"],
        department="Platform",
        seniority_level=6,
        seniority_years=9,
        time_zone="Europe/Paris",
        languages=["en", "fr"],
        availability=[0, 9, 167],
        manager_id=manager_id,
        capacity=3,
    )
    return p


def test_profile_at_enroll_is_normalized(world, pb, admin):
    prog = world.program(state="ENROLLING")
    m = world.user()
    p = enroll(m, prog.id, "MENTOR", profile=full_profile(pb, manager_id=admin.id)).profile
    assert [(s.name, s.level) for s in p.skills_offered] == [("public speaking", 4), ("go", 5)]
    assert [(s.name, s.level) for s in p.skills_wanted] == [("kubernetes operators", 2)]
    assert list(p.career_goals) == ["engineering manager"]
    assert list(p.interests) == ["rock climbing", "chess"]
    assert p.department == "Platform"
    assert (p.seniority_level, p.seniority_years) == (6, 9)
    assert p.time_zone == "Europe/Paris"
    assert list(p.languages) == ["en", "fr"]
    assert sorted(p.availability) == [0, 9, 167]
    assert p.manager_id == admin.id
    assert p.capacity == 3
    # Stored as answered.
    assert m.ok("participant_show", program_id=prog.id).profile == p
    assert admin.ok("participant_show", program_id=prog.id, user_id=m.id).profile == p


def test_language_case_is_normalized_or_refused(world, pb, admin):
    prog = world.program(state="ENROLLING")
    m = world.user()
    enroll(m, prog.id, "MENTEE")
    r = m.call("profile_update", pb.ProfileUpdate(
        program_id=prog.id, profile=pb.Profile(languages=["EN"]), update_mask=["languages"]))
    if r.status.code == pb.OK:
        assert list(r.participant.profile.languages) == ["en"]
    else:
        assert code_name(pb, r.status.code) == "INVALID_ARGUMENT", r.status
        assert "languages" in r.status.field


BAD_PROFILES = [
    # (id, profile kwargs, mask, field fragment)
    ("offered level 7", dict(skills_offered=[dict(name="go", level=7)]),
     ["skills_offered"], "skills_offered"),
    ("offered level 0", dict(skills_offered=[dict(name="go", level=0)]),
     ["skills_offered"], "skills_offered"),
    ("wanted level 6", dict(skills_wanted=[dict(name="go", level=6)]),
     ["skills_wanted"], "skills_wanted"),
    ("blank skill name", dict(skills_offered=[dict(name="   ", level=3)]),
     ["skills_offered"], "skills_offered"),
    ("time zone Mars", dict(time_zone="Mars/Olympus"), ["time_zone"], "time_zone"),
    ("language english", dict(languages=["english"]), ["languages"], "languages"),
    ("availability 168", dict(availability=[3, 168]), ["availability"], "availability"),
    ("seniority level 21", dict(seniority_level=21), ["seniority_level"], "seniority_level"),
    ("seniority years 61", dict(seniority_years=61), ["seniority_years"], "seniority_years"),
    ("capacity 0", dict(capacity=0), ["capacity"], "capacity"),
    ("capacity 11", dict(capacity=11), ["capacity"], "capacity"),
    ("department 201", dict(department="d" * 201), ["department"], "department"),
    ("51 interests", dict(interests=["i%d" % i for i in range(51)]), ["interests"], "interests"),
    ("unknown mask name", dict(department="Ops"), ["department", "shoe_size"], "update_mask"),
]


def _profile(pb, kw):
    kw = dict(kw)
    for key in ("skills_offered", "skills_wanted"):
        if key in kw:
            kw[key] = [pb.Skill(**s) for s in kw[key]]
    return pb.Profile(**kw)


@pytest.fixture(scope="module")
def profile_target(world):
    """One enrolling program with one mentor whose profile the validation
    tests try to break."""
    prog = world.program(state="ENROLLING")
    m = world.user()
    base = enroll(m, prog.id, "MENTOR", profile=full_profile(world.pb)).profile
    return prog, m, base


@pytest.mark.parametrize("what,kw,mask,field", BAD_PROFILES, ids=[b[0] for b in BAD_PROFILES])
def test_profile_update_validation(world, pb, profile_target, what, kw, mask, field):
    prog, m, base = profile_target
    st = profile_update(m, prog.id, _profile(pb, kw), mask, codes="INVALID_ARGUMENT")
    assert field in st.field, "%s: field %r should name %r" % (what, st.field, field)
    assert m.ok("participant_show", program_id=prog.id).profile == base


ENROLL_BAD = [b for b in BAD_PROFILES if b[0] not in ("capacity 0", "unknown mask name")]


@pytest.mark.parametrize("what,kw,mask,field", ENROLL_BAD, ids=[b[0] for b in ENROLL_BAD])
def test_profile_at_enroll_validation(world, pb, admin, what, kw, mask, field):
    prog = world.program(state="ENROLLING")
    m = world.user()
    st = enroll(m, prog.id, "MENTOR", profile=_profile(pb, kw), codes="INVALID_ARGUMENT")
    assert field in st.field, "%s: field %r should name %r" % (what, st.field, field)
    assert participants(admin, prog.id, include_withdrawn=True) == {}


def test_profile_manager_must_be_another_user_of_the_org(world, pb, admin, profile_target):
    prog, m, base = profile_target
    st = profile_update(m, prog.id, pb.Profile(manager_id=m.id), ["manager_id"],
                        codes="INVALID_ARGUMENT")
    assert "manager_id" in st.field
    for bad in (NO_SUCH_ID, world.org_b().id):
        st = profile_update(m, prog.id, pb.Profile(manager_id=bad), ["manager_id"],
                            codes=("INVALID_ARGUMENT", "NOT_FOUND"))
    assert m.ok("participant_show", program_id=prog.id).profile == base
    # At enroll, too.
    prog2 = world.program(state="ENROLLING")
    n = world.user()
    enroll(n, prog2.id, "MENTEE", profile=pb.Profile(manager_id=n.id), codes="INVALID_ARGUMENT")
    enroll(n, prog2.id, "MENTEE", profile=pb.Profile(manager_id=world.org_b().id),
           codes=("INVALID_ARGUMENT", "NOT_FOUND"))
    # A real manager, then cleared again with 0.
    boss = world.user("member")
    got = profile_update(m, prog.id, pb.Profile(manager_id=boss.id), ["manager_id"])
    assert got.profile.manager_id == boss.id
    got = profile_update(m, prog.id, pb.Profile(), ["manager_id"])
    assert got.profile.manager_id == 0


def test_profile_update_mask_leaves_the_rest(world, pb, admin):
    prog = world.program(state="ENROLLING")
    m = world.user()
    base = enroll(m, prog.id, "MENTOR", profile=full_profile(pb)).profile
    # A full message, but only time_zone and skills_wanted are in the mask.
    change = pb.Profile(time_zone="America/New_York", department="Sales",
                        skills_wanted=[pb.Skill(name=" RUST ", level=1)],
                        skills_offered=[], capacity=9, languages=["de"])
    got = profile_update(m, prog.id, change, ["time_zone", "skills_wanted"]).profile
    expect = pb.Profile()
    expect.CopyFrom(base)
    expect.time_zone = "America/New_York"
    del expect.skills_wanted[:]
    expect.skills_wanted.add(name="rust", level=1)
    assert got == expect
    assert m.ok("participant_show", program_id=prog.id).profile == expect
    # Clearing a list through the mask.
    got = profile_update(m, prog.id, pb.Profile(), ["skills_offered", "time_zone"]).profile
    assert list(got.skills_offered) == [] and got.time_zone == ""
    assert got.department == "Platform" and got.capacity == 3
    # The reply of ProfileUpdate is a Participant of the right person.
    r = profile_update(m, prog.id, pb.Profile(department="Ops"), ["department"])
    assert r.user_id == m.id and r.program_id == prog.id and r.profile.department == "Ops"


def test_who_may_edit_a_profile(world, pb, admin):
    coord = world.user("coordinator")
    prog = world.program(state="ENROLLING", coordinators=[coord])
    a, b = world.user(), world.user()
    enroll(a, prog.id, "MENTEE")
    enroll(b, prog.id, "MENTEE")
    assert profile_update(a, prog.id, pb.Profile(department="A"), ["department"]).profile \
        .department == "A"
    assert profile_update(a, prog.id, pb.Profile(department="A2"), ["department"], user=a) \
        .profile.department == "A2"
    profile_update(b, prog.id, pb.Profile(department="hijack"), ["department"], user=a,
                   codes="PERMISSION_DENIED")
    world.user("coordinator").fail("profile_update", "PERMISSION_DENIED", pb.ProfileUpdate(
        program_id=prog.id, user_id=a.id, profile=pb.Profile(department="hijack"),
        update_mask=["department"]))
    assert profile_update(coord, prog.id, pb.Profile(department="C"), ["department"],
                          user=a).profile.department == "C"
    assert profile_update(admin, prog.id, pb.Profile(department="D"), ["department"],
                          user=a).profile.department == "D"
    assert a.ok("participant_show", program_id=prog.id).profile.department == "D"
    # Someone not enrolled has no profile to edit.
    profile_update(world.user(), prog.id, pb.Profile(department="x"), ["department"],
                   codes="NOT_FOUND")


def test_attributes_are_shown_only_to_the_participant(world, pb, admin):
    coord = world.user("coordinator")
    prog = world.program(state="ENROLLING", coordinators=[coord])
    m = world.user()
    prof = pb.Profile(department="R&D")
    prof.attributes["pronouns"] = "they/them"
    prof.attributes["first_generation"] = "yes"
    mine = enroll(m, prog.id, "MENTEE", profile=prof)
    assert dict(mine.profile.attributes) == {"pronouns": "they/them", "first_generation": "yes"}
    assert dict(m.ok("participant_show", program_id=prog.id).profile.attributes) == \
        dict(mine.profile.attributes)

    for who in (admin, coord):
        seen = who.ok("participant_show", program_id=prog.id, user_id=m.id)
        assert seen.profile.department == "R&D"
        assert dict(seen.profile.attributes) == {}, "%r sees attributes" % who
        listed = participants(who, prog.id)[m.id]
        assert dict(listed.profile.attributes) == {}, "ParticipantList shows attributes"
    # An admin editing another field neither sees nor drops them.
    got = profile_update(admin, prog.id, pb.Profile(department="Ops"), ["department"], user=m)
    assert dict(got.profile.attributes) == {}
    assert dict(m.ok("participant_show", program_id=prog.id).profile.attributes) == \
        dict(mine.profile.attributes)
    # The participant changes them through the mask.
    upd = pb.Profile()
    upd.attributes["pronouns"] = "she/her"
    got = profile_update(m, prog.id, upd, ["attributes"])
    assert dict(got.profile.attributes) == {"pronouns": "she/her"}

    # Self-identified means self-set: nobody else may write them, at enroll
    # or through the mask, and nothing is stored when refused.
    other = world.user()
    prof2 = pb.Profile()
    prof2.attributes["pronouns"] = "he/him"
    st = admin.fail("participant_enroll", "PERMISSION_DENIED",
                    pb.ParticipantEnroll(program_id=prog.id, user_id=other.id,
                                         role=pb.MENTOR, profile=prof2))
    assert st.field == "participant_enroll.profile.attributes", st
    st = admin.fail("profile_update", "PERMISSION_DENIED",
                    pb.ProfileUpdate(program_id=prog.id, user_id=m.id, profile=prof2,
                                     update_mask=["attributes"]))
    assert st.field == "profile_update.profile.attributes", st
    assert dict(m.ok("participant_show", program_id=prog.id).profile.attributes) == \
        {"pronouns": "she/her"}


def test_assign_coordinator_edge_cases(world, pb, admin):
    prog = world.program()
    coord = world.user("coordinator")
    # Assigning twice keeps one entry.
    admin.ok("program_assign_coordinator", program_id=prog.id, user_id=coord.id)
    got = admin.ok("program_assign_coordinator", program_id=prog.id, user_id=coord.id)
    assert list(got.coordinator_ids) == [coord.id]
    # Removing someone not assigned, or with no user at all.
    admin.fail("program_assign_coordinator", ("NOT_FOUND", "FAILED_PRECONDITION"),
               program_id=prog.id, user_id=world.user("coordinator").id, remove=True)
    admin.fail("program_assign_coordinator", "INVALID_ARGUMENT", program_id=prog.id)
    # A deactivated coordinator cannot be assigned.
    gone = world.user("coordinator")
    admin.ok("user_deactivate", id=gone.id)
    admin.fail("program_assign_coordinator", ("FAILED_PRECONDITION", "NOT_FOUND"),
               program_id=prog.id, user_id=gone.id)
    assert list(admin.ok("program_show", id=prog.id).coordinator_ids) == [coord.id]


def test_program_list_rejects_unknown_state(world, pb, admin):
    admin.fail("program_list", "INVALID_ARGUMENT", state=9)


def test_demoted_coordinator_loses_program_rights(world, pb, admin):
    """Roles are re-checked on every request: a coordinator turned member
    keeps no coordinator rights through an old assignment."""
    coord = world.user("coordinator")
    draft = world.program(coordinators=[coord])
    enrolling = world.program(state="ENROLLING", coordinators=[coord])
    victim = world.user()
    enroll(admin, draft.id, "MENTEE", victim)
    enroll(victim, enrolling.id, "MENTEE")
    # Still a coordinator: all of this works.
    assert coord.ok("program_show", id=draft.id).id == draft.id
    coord.ok("participant_show", program_id=enrolling.id, user_id=victim.id)

    admin.ok("user_update", id=coord.id, role=pb.MEMBER)
    problems = []
    # Now a member: a draft program they do not take part in does not exist.
    coord.check(problems, "program_show", "NOT_FOUND", id=draft.id)
    if draft.id in listed_ids(coord):
        problems.append("ProgramList still shows the draft program %d" % draft.id)
    other = world.user()
    coord.check(problems, "participant_enroll", ("NOT_FOUND", "PERMISSION_DENIED"),
                pb.ParticipantEnroll(program_id=draft.id, user_id=other.id, role=pb.MENTOR))
    coord.check(problems, "participant_show", ("NOT_FOUND", "PERMISSION_DENIED"),
                program_id=draft.id, user_id=victim.id)
    # The enrolling program is visible, but other people's records are not theirs.
    coord.check(problems, "participant_enroll", "PERMISSION_DENIED",
                pb.ParticipantEnroll(program_id=enrolling.id, user_id=other.id, role=pb.MENTOR))
    coord.check(problems, "participant_show", "PERMISSION_DENIED", program_id=enrolling.id,
                user_id=victim.id)
    coord.check(problems, "profile_update", "PERMISSION_DENIED", pb.ProfileUpdate(
        program_id=enrolling.id, user_id=victim.id, profile=pb.Profile(department="x"),
        update_mask=["department"]))
    coord.check(problems, "participant_withdraw", "PERMISSION_DENIED", program_id=enrolling.id,
                user_id=victim.id)
    coord.check(problems, "program_update", "PERMISSION_DENIED", pb.ProgramUpdate(
        id=enrolling.id, program=pb.Program(description="x"), update_mask=["description"]))
    assert not problems, "a coordinator demoted to member still runs their programs:\n" + \
        "\n".join(problems)
    assert set(participants(admin, enrolling.id)) == {victim.id}
    assert participants(admin, enrolling.id)[victim.id].profile.department == ""


def test_withdraw_from_closed_program_refused(world, pb, admin):
    """A closed program is history: nobody leaves it afterwards."""
    prog = world.program(state="ENROLLING")
    m, n = world.user(), world.user()
    enroll(m, prog.id, "MENTEE")
    enroll(n, prog.id, "MENTOR")
    transition(admin, prog.id, "CLOSED")
    m.fail("participant_withdraw", "FAILED_PRECONDITION", program_id=prog.id)
    admin.fail("participant_withdraw", "FAILED_PRECONDITION", program_id=prog.id, user_id=n.id)
    shown = admin.ok("program_show", id=prog.id)
    assert (shown.mentor_count, shown.mentee_count) == (1, 1)


def test_concurrent_profile_updates_lose_nothing(world, pb, admin, server):
    """Updates of different fields racing each other all land (the server
    merges each mask into the current profile)."""
    prog = world.program(state="ENROLLING")
    m = world.user()
    enroll(m, prog.id, "MENTOR", profile=pb.Profile(department="Start"))
    conns = [m.conn] + [world.login_as(m) for _ in range(5)]
    updates = [
        (pb.Profile(department="Platform"), "department"),
        (pb.Profile(time_zone="Europe/Paris"), "time_zone"),
        (pb.Profile(seniority_level=7), "seniority_level"),
        (pb.Profile(seniority_years=12), "seniority_years"),
        (pb.Profile(languages=["de"]), "languages"),
        (pb.Profile(capacity=4), "capacity"),
    ]
    for rnd in range(3):
        sent = []
        for conn, (prof, field) in zip(conns, updates):
            msg = pb.ProfileUpdate(program_id=prog.id, profile=prof, update_mask=[field])
            sent.append((conn, conn.send("profile_update", msg), field))
        answers = {}
        for conn, rid, field in sent:
            r = conn.wait(rid)
            answers[field] = code_name(pb, r.status.code)
            assert answers[field] in ("OK", "UNAVAILABLE"), (
                "round %d, %s: %s" % (rnd, field, r.status))
        final = m.ok("participant_show", program_id=prog.id).profile
        for prof, field in updates:
            if answers[field] == "OK":
                assert getattr(final, field) == getattr(prof, field), (
                    "round %d: the OK'd update of %s was lost: %s" % (rnd, field, final))
        # Undo for the next round.
        profile_update(m, prog.id, pb.Profile(department="Start", capacity=1),
                       [f for _, f in updates])


# ---------------------------------------------------------------------------
# Isolation between organizations


def test_other_org_sees_nothing(world, pb, admin):
    coord = world.user("coordinator")
    member = world.user()
    progs = {s: world.program(state=s, coordinators=[coord]) for s in PATH}
    enroll(admin, progs["ENROLLING"].id, "MENTEE", member)
    boss = world.org_b()
    b_member = world.user(admin=boss)

    requests = [
        ("program_show", lambda pid: pb.ProgramShow(id=pid)),
        ("program_update", lambda pid: pb.ProgramUpdate(
            id=pid, program=pb.Program(description="x"), update_mask=["description"])),
        ("program_transition", lambda pid: pb.ProgramTransition(id=pid, to=pb.CLOSED)),
        ("program_assign_coordinator",
         lambda pid: pb.ProgramAssignCoordinator(program_id=pid, user_id=boss.id)),
        ("participant_list", lambda pid: pb.ParticipantList(program_id=pid)),
        ("participant_enroll", lambda pid: pb.ParticipantEnroll(program_id=pid, role=pb.MENTEE)),
        ("participant_show", lambda pid: pb.ParticipantShow(program_id=pid)),
        ("participant_show", lambda pid: pb.ParticipantShow(program_id=pid, user_id=member.id)),
        ("participant_withdraw",
         lambda pid: pb.ParticipantWithdraw(program_id=pid, user_id=member.id)),
        ("profile_update", lambda pid: pb.ProfileUpdate(
            program_id=pid, user_id=member.id, profile=pb.Profile(department="x"),
            update_mask=["department"])),
    ]
    for who in (boss, b_member):
        for kind, build in requests:
            # What an id that exists nowhere gets ...
            ghost = who.call(kind, build(NO_SUCH_ID)).status
            assert code_name(pb, ghost.code) in ("NOT_FOUND", "PERMISSION_DENIED"), (kind, ghost)
            if who is boss:
                assert code_name(pb, ghost.code) == "NOT_FOUND", (kind, ghost)
            # ... is exactly what every program of the other org gets.
            for s, p in progs.items():
                r = who.call(kind, build(p.id))
                assert (r.status.code, r.status.message, r.status.field) == (
                    ghost.code, ghost.message, ghost.field), (
                    "%r, %s on a %s program of another org: %s; unknown id: %s"
                    % (who, kind, s, r.status, ghost))
        ids = listed_ids(who)
        assert not set(ids) & {p.id for p in progs.values()}

    # Names are unique per organization only; B's programs are B's.
    mine = boss.ok("program_create", pb.ProgramCreate(
        program=pb.Program(name=progs["DRAFT"].name)))
    assert mine.id != progs["DRAFT"].id
    transition(boss, mine.id, "ENROLLING")
    assert listed_ids(boss) == [mine.id]
    assert listed_ids(b_member) == [mine.id]
    for who in (admin, coord, member):
        who.fail("program_show", "NOT_FOUND", id=mine.id)
        assert mine.id not in listed_ids(who)
        enroll(who, mine.id, "MENTEE", codes="NOT_FOUND")
    # Users of A cannot be put into B's program and the other way round.
    enroll(boss, mine.id, "MENTEE", member, codes=("NOT_FOUND", "INVALID_ARGUMENT"))
    enroll(admin, progs["ENROLLING"].id, "MENTEE", b_member,
           codes=("NOT_FOUND", "INVALID_ARGUMENT"))
    admin.fail("program_assign_coordinator", ("NOT_FOUND", "INVALID_ARGUMENT"),
               program_id=progs["DRAFT"].id, user_id=boss.id)
    boss.fail("program_assign_coordinator", ("NOT_FOUND", "INVALID_ARGUMENT"),
              program_id=mine.id, user_id=coord.id)
    # A's data is untouched by all that.
    assert set(participants(admin, progs["ENROLLING"].id)) == {member.id}
    for s, p in progs.items():
        shown = admin.ok("program_show", id=p.id)
        assert state_name(pb, shown) == s and shown.description == ""
        assert list(shown.coordinator_ids) == [coord.id]


# ---------------------------------------------------------------------------
# Through mentorctl


def unwrap(doc, key):
    return doc[key] if isinstance(doc, dict) and isinstance(doc.get(key), dict) else doc


def listing(doc, key):
    if isinstance(doc, list):
        return doc
    return doc[key]


@pytest.fixture(scope="module")
def ctl_admin(server):
    return server.login_admin()


def test_cli_program_create_show_update(server, ctl_admin):
    name = harness.unique("CLI Program")
    doc = unwrap(ctl_admin.ok(
        "program", "create", "--name", name, "--cadence", "7", "--capacity", "3",
        "--start", "2026-01-05", "--end", "2026-06-30",
        "--objective", "Ship a design doc", "--objective", "Lead a retro",
        "--weight", "skills=50", "--weight", "language=0", "--department-rule", "different",
    ), "program")
    pid = int(doc["id"])
    assert doc["name"] == name
    assert doc["state"] == "draft"
    assert int(doc["checkin_cadence_days"]) == 7
    assert int(doc["default_mentor_capacity"]) == 3
    assert doc["start_date"] == "2026-01-05" and doc["end_date"] == "2026-06-30"
    assert doc["objectives"] == ["Ship a design doc", "Lead a retro"]
    w = {k: int(v) for k, v in doc["weights"].items()}
    assert w == dict(DEFAULT_WEIGHTS, skills=50, language=0)
    assert doc["rules"]["department"] in ("different", "department_different")

    shown = unwrap(ctl_admin.ok("program", "show", pid), "program")
    assert shown["name"] == name and int(shown["id"]) == pid
    ids = [int(p["id"]) for p in listing(ctl_admin.ok("program", "list"), "programs")]
    assert pid in ids

    plain = ctl_admin.ctl("program", "show", pid)
    assert plain.returncode == 0 and name in plain.stdout, harness.describe(plain, "table")

    # Refusals come back with the server's code and field.
    err = ctl_admin.fail("program", "create", "--name", harness.unique("bad"), "--start",
                         "2026-13-01", code="INVALID_ARGUMENT")
    assert "start_date" in err.get("field", "") or "start" in err["message"]
    ctl_admin.fail("program", "create", "--name", name, code="ALREADY_EXISTS")
    ctl_admin.fail("program", "transition", pid, "active", code="FAILED_PRECONDITION")


def test_cli_lifecycle_enroll_and_profile(server, ctl_admin):
    coord = server.make_user(ctl_admin, role="coordinator")
    member = server.make_user(ctl_admin, role="member")
    member.client.fail("program", "create", "--name", harness.unique("nope"),
                       code="PERMISSION_DENIED")

    pid = int(unwrap(ctl_admin.ok("program", "create", "--name", harness.unique("CLI Flow")),
                     "program")["id"])
    doc = unwrap(ctl_admin.ok("program", "assign-coordinator", pid, "--user", coord.id),
                 "program")
    assert [int(i) for i in doc["coordinator_ids"]] == [int(coord.id)]
    doc = unwrap(coord.client.ok("program", "transition", pid, "enrolling"), "program")
    assert doc["state"] == "enrolling"
    doc = unwrap(coord.client.ok("program", "update", pid, "--capacity", "4"), "program")
    assert int(doc["default_mentor_capacity"]) == 4

    p = unwrap(member.client.ok("participant", "enroll", "--program", pid, "--role", "mentee"),
               "participant")
    assert int(p["user_id"]) == int(member.id)
    assert p["role"] == "mentee" and p["status"] == "active"
    mentor = server.make_user(ctl_admin)
    p = unwrap(ctl_admin.ok("participant", "enroll", "--program", pid, "--email", mentor.email,
                            "--role", "mentor"), "participant")
    assert int(p["user_id"]) == int(mentor.id) and p["role"] == "mentor"
    member.client.fail("participant", "enroll", "--program", pid, "--user", mentor.id,
                       "--role", "mentee", code="PERMISSION_DENIED")
    ctl_admin.fail("participant", "enroll", "--program", pid, "--user", member.id,
                   "--role", "mentor", code="ALREADY_EXISTS")

    doc = unwrap(member.client.ok(
        "profile", "edit", "--program", pid, "--want", "  Public   SPEAKING :3",
        "--time-zone", "Europe/Paris", "--language", "en", "--language", "fr",
    ), "participant")
    prof = doc.get("profile", doc)
    assert [(s["name"], int(s["level"])) for s in prof["skills_wanted"]] == [
        ("public speaking", 3)]
    assert prof["time_zone"] == "Europe/Paris"
    assert prof["languages"] == ["en", "fr"]
    shown = unwrap(member.client.ok("profile", "show", "--program", pid), "participant")
    shown = shown.get("profile", shown)
    assert shown["time_zone"] == "Europe/Paris"
    err = member.client.fail("profile", "edit", "--program", pid, "--offer", "go:7",
                             code="INVALID_ARGUMENT")
    assert "skills_offered" in err.get("field", "")
    member.client.fail("profile", "edit", "--program", pid, "--time-zone", "Mars/Olympus",
                       code="INVALID_ARGUMENT")
    member.client.fail("profile", "edit", "--program", pid, "--user", mentor.id,
                       "--time-zone", "UTC", code="PERMISSION_DENIED")

    rows = listing(coord.client.ok("participant", "list", "--program", pid), "participants")
    assert {int(r["user_id"]): r["role"] for r in rows} == {
        int(member.id): "mentee", int(mentor.id): "mentor"}
    member.client.fail("participant", "list", "--program", pid, code="PERMISSION_DENIED")

    w = unwrap(member.client.ok("participant", "withdraw", "--program", pid), "participant")
    assert w["status"] == "withdrawn"
    rows = listing(coord.client.ok("participant", "list", "--program", pid), "participants")
    assert [int(r["user_id"]) for r in rows] == [int(mentor.id)]

    doc = unwrap(ctl_admin.ok("program", "assign-coordinator", pid, "--user", coord.id,
                              "--remove"), "program")
    assert doc.get("coordinator_ids", []) == []
    coord.client.fail("program", "update", pid, "--capacity", "5", code="PERMISSION_DENIED")
    unwrap(ctl_admin.ok("program", "transition", pid, "closed"), "program")
    ctl_admin.fail("program", "transition", pid, "closed", code="FAILED_PRECONDITION")


def test_cli_profile_from_file(server, ctl_admin, scratch_dir):
    pid = int(unwrap(ctl_admin.ok("program", "create", "--name", harness.unique("CLI File")),
                     "program")["id"])
    ctl_admin.ok("program", "transition", pid, "enrolling")
    member = server.make_user(ctl_admin)
    member.client.ok("participant", "enroll", "--program", pid, "--role", "mentor")
    path = os.path.join(scratch_dir, "profile.json")
    with open(path, "w") as f:
        json.dump({
            "skills_offered": [{"name": "Go", "level": 5}],
            "interests": ["Chess"],
            "department": "Platform",
            "seniority_level": 4,
            "capacity": 2,
            "attributes": {"pronouns": "they/them"},
        }, f)
    doc = unwrap(member.client.ok("profile", "edit", "--program", pid, "--from-file", path),
                 "participant")
    prof = doc.get("profile", doc)
    assert [(s["name"], int(s["level"])) for s in prof["skills_offered"]] == [("go", 5)]
    assert prof["interests"] == ["chess"]
    assert prof["department"] == "Platform"
    assert int(prof["capacity"]) == 2
    assert prof.get("attributes") == {"pronouns": "they/them"}
    seen = unwrap(ctl_admin.ok("profile", "show", "--program", pid, "--user", member.id),
                  "participant")
    seen = seen.get("profile", seen)
    assert seen["department"] == "Platform"
    assert not seen.get("attributes"), "an admin sees a participant's attributes via mentorctl"


def test_cli_availability_attributes_and_withdrawn(server, ctl_admin):
    pid = int(unwrap(ctl_admin.ok("program", "create", "--name", harness.unique("CLI Avail")),
                     "program")["id"])
    member = server.make_user(ctl_admin)
    doc = unwrap(ctl_admin.ok(
        "participant", "enroll", "--program", pid, "--user", member.id, "--role", "mentor",
        "--availability", "mon-fri:9-17,sun:23-24", "--capacity", "3",
    ), "participant")
    prof = doc.get("profile", doc)
    want = [d * 24 + h for d in range(5) for h in range(9, 17)] + [167]
    assert sorted(int(x) for x in prof["availability"]) == want
    assert int(prof["capacity"]) == 3

    doc = unwrap(member.client.ok("profile", "edit", "--program", pid, "--attribute",
                                  "pronouns=she/her"), "participant")
    assert doc.get("profile", doc)["attributes"] == {"pronouns": "she/her"}
    seen = unwrap(ctl_admin.ok("profile", "show", "--program", pid, "--user", member.id),
                  "participant")
    assert not seen.get("profile", seen).get("attributes")
    # --clear empties a field through the mask and leaves the rest.
    doc = unwrap(member.client.ok("profile", "edit", "--program", pid, "--clear",
                                  "availability"), "participant")
    prof = doc.get("profile", doc)
    assert not prof.get("availability") and int(prof["capacity"]) == 3

    ctl_admin.ok("participant", "withdraw", "--program", pid, "--user", member.id)
    rows = listing(ctl_admin.ok("participant", "list", "--program", pid), "participants")
    assert rows == []
    rows = listing(ctl_admin.ok("participant", "list", "--program", pid, "--all"),
                   "participants")
    assert [(int(r["user_id"]), r["status"]) for r in rows] == [(int(member.id), "withdrawn")]
