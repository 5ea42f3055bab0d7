"""Authorization matrix, driven by the request kinds of mentor.proto.

Every kind in `Request.kind` must appear in PERMISSIONS below (the table in
the README says the same thing in words); a kind added to the protocol
without an entry fails test_every_kind_has_a_permission_entry. For each
kind the test then checks, with an empty or foreign request:
  - before login, only the pre-login kinds are answered with anything but
    UNAUTHENTICATED;
  - a caller below the kind's least role gets PERMISSION_DENIED;
  - the operator-only kinds refuse an admin who is not the operator;
  - callers allowed by role never get UNAUTHENTICATED, PERMISSION_DENIED
    for their role, or INTERNAL;
  - an admin of another organization gets NOT_FOUND for organization A's
    objects (no existence leak).
"""

import pytest

import harness
from test_programs import World, code_name

# kind -> (least role, operator only). None: allowed before login.
PERMISSIONS = {
    "hello": (None, False),
    "login": (None, False),
    "invite_accept": (None, False),
    "logout": ("MEMBER", False),
    "whoami": ("MEMBER", False),
    "org_show": ("MEMBER", False),
    "org_create": ("ADMIN", True),
    "org_list": ("ADMIN", True),
    "user_invite": ("ADMIN", False),
    "user_list": ("COORDINATOR", False),
    "user_show": ("MEMBER", False),
    "user_update": ("ADMIN", False),
    "user_deactivate": ("ADMIN", False),
    "program_create": ("ADMIN", False),
    "program_list": ("MEMBER", False),
    "program_show": ("MEMBER", False),
    "program_update": ("COORDINATOR", False),
    "program_transition": ("COORDINATOR", False),
    "program_assign_coordinator": ("ADMIN", False),
    "participant_enroll": ("MEMBER", False),
    "participant_list": ("COORDINATOR", False),
    "participant_show": ("MEMBER", False),
    "participant_withdraw": ("MEMBER", False),
    "profile_update": ("MEMBER", False),
    "participant_import": ("COORDINATOR", False),
    "user_import": ("ADMIN", False),
    "user_reset_password": ("ADMIN", False),
    "password_change": ("MEMBER", False),
    "token_create": ("MEMBER", False),
    "token_list": ("MEMBER", False),
    "token_revoke": ("MEMBER", False),
    "audit_list": ("ADMIN", False),
    "admin_status": ("ADMIN", True),
    "participant_training": ("COORDINATOR", False),
    "match_run": ("COORDINATOR", False),
    "match_list": ("MEMBER", False),
    "match_explain": ("MEMBER", False),
    "match_decide": ("MEMBER", False),
    "match_pin": ("COORDINATOR", False),
    "match_exclude": ("COORDINATOR", False),
    "match_reassign": ("COORDINATOR", False),
    "match_preference_set": ("MEMBER", False),
    "match_preference_list": ("MEMBER", False),
    "match_suggest": ("MEMBER", False),
    "match_request": ("MEMBER", False),
    "match_run_list": ("COORDINATOR", False),
    "rematch_request": ("MEMBER", False),
    "pair_list": ("MEMBER", False),
    "inbox_list": ("MEMBER", False),
    "inbox_read": ("MEMBER", False),
}

RANK = {"MEMBER": 1, "COORDINATOR": 2, "ADMIN": 3}


def request_kinds(pb):
    return [f.name for f in pb.Request.DESCRIPTOR.oneofs_by_name["kind"].fields]


def empty(pb, kind):
    return type(getattr(pb.Request(), kind))()


@pytest.fixture(scope="module")
def world(server, pb):
    w = World(server, pb)
    try:
        yield w
    finally:
        w.close()


def test_every_kind_has_a_permission_entry(pb):
    kinds = request_kinds(pb)
    missing = [k for k in kinds if k not in PERMISSIONS]
    assert not missing, "request kinds without a permission entry: %s" % missing
    stale = [k for k in PERMISSIONS if k not in kinds]
    assert not stale, "permission entries for kinds that do not exist: %s" % stale


def test_only_prelogin_kinds_answer_before_login(server, pb):
    c = harness.RawConn(pb, server.port, server.ca_path)
    try:
        assert c.hello().status.code == pb.OK
        for kind in request_kinds(pb):
            if PERMISSIONS[kind][0] is None:
                continue
            r = c.call(kind, empty(pb, kind))
            assert code_name(pb, r.status.code) == "UNAUTHENTICATED", (kind, r.status)
    finally:
        c.close()


def sweep(pb, actor, role, operator):
    """Calls every logged-in kind as `actor`; returns the problems found."""
    problems = []
    for kind in request_kinds(pb):
        least, op_only = PERMISSIONS[kind]
        if least is None or kind == "logout":
            continue
        r = actor.call(kind, empty(pb, kind))
        got = code_name(pb, r.status.code)
        denied = RANK[role] < RANK[least] or (op_only and not operator)
        if denied and got != "PERMISSION_DENIED":
            problems.append("%s as %s: expected PERMISSION_DENIED, got %s %s"
                            % (kind, role, got, r.status.message))
        if not denied and got in ("UNAUTHENTICATED", "INTERNAL"):
            problems.append("%s as %s: allowed by role but got %s %s"
                            % (kind, role, got, r.status.message))
        if not denied and got == "PERMISSION_DENIED" and least != "MEMBER":
            problems.append("%s as %s: the role suffices but got PERMISSION_DENIED %s"
                            % (kind, role, r.status.message))
    return problems


@pytest.mark.parametrize("role", ["member", "coordinator", "admin"])
def test_roles_against_every_kind(world, pb, role):
    actor = world.user(role)
    problems = sweep(pb, actor, role.upper(), operator=False)
    assert not problems, "\n".join(problems)


def test_operator_against_every_kind(world, pb):
    problems = sweep(pb, world.admin, "ADMIN", operator=True)
    assert not problems, "\n".join(problems)


def test_other_org_sees_nothing_of_org_a(world, pb):
    a_member = world.user("member")
    prog = world.program("ENROLLING")
    b = world.org_b()
    problems = []
    b.check(problems, "user_show", "NOT_FOUND", id=a_member.id)
    b.check(problems, "user_update", "NOT_FOUND", id=a_member.id, display_name="X")
    b.check(problems, "user_deactivate", "NOT_FOUND", id=a_member.id)
    b.check(problems, "user_reset_password", "NOT_FOUND", id=a_member.id)
    b.check(problems, "program_show", "NOT_FOUND", id=prog.id)
    b.check(problems, "program_update", "NOT_FOUND", pb.ProgramUpdate(
        id=prog.id, program=pb.Program(name="stolen"), update_mask=["name"]))
    b.check(problems, "program_transition", "NOT_FOUND", pb.ProgramTransition(
        id=prog.id, to=pb.MATCHING))
    b.check(problems, "program_assign_coordinator", "NOT_FOUND",
            program_id=prog.id, user_id=b.id)
    b.check(problems, "participant_enroll", "NOT_FOUND", pb.ParticipantEnroll(
        program_id=prog.id, role=pb.MENTOR))
    b.check(problems, "participant_list", "NOT_FOUND", program_id=prog.id)
    b.check(problems, "participant_show", "NOT_FOUND", program_id=prog.id, user_id=a_member.id)
    b.check(problems, "participant_import", "NOT_FOUND", pb.ParticipantImport(
        program_id=prog.id, import_id="authz-import-1", finish=True))
    listed = b.ok("program_list", pb.ProgramList())
    if any(p.id == prog.id for p in listed.programs):
        problems.append("program_list of org B shows org A's program")
    users = b.ok("user_list", pb.UserList(include_inactive=True))
    if any(u.id == a_member.id for u in users.users):
        problems.append("user_list of org B shows org A's user")
    assert not problems, "\n".join(problems)
