"""API tokens: `mentorctl token create|list|revoke` and MENTORCTL_TOKEN.

A token is used in place of the saved session; read tokens may only call the
request kinds that change nothing (the table READ_KINDS, checked against
every kind of mentor.proto through a raw connection), write tokens do what
their user may; tokens outlive idle expiry and `logout --all`, and end when
revoked or when their user is deactivated.
"""

import time

import pytest

import harness
from harness import ADMIN_EMAIL
from test_authz import PERMISSIONS, empty, request_kinds
from test_programs import World, code_name

# The kinds a read token may call: they change nothing (logout ends the
# token itself).
READ_KINDS = {
    "logout", "whoami", "org_show", "org_list", "user_list", "user_show", "program_list",
    "program_show", "participant_list", "participant_show", "token_list", "audit_list", "admin_status",
    "match_list", "match_explain", "match_preference_list", "match_suggest", "match_run_list",
    "pair_list", "inbox_list",
}


def with_token(client, secret, *args, json=True):
    cp = client.ctl(*args, json=json, env={"MENTORCTL_TOKEN": secret})
    return cp


def ok_with(client, secret, *args):
    cp = with_token(client, secret, *args)
    assert cp.returncode == 0, harness.describe(cp, "expected success with the token")
    return harness.parse_json(cp)


def refused_with(client, secret, code, *args):
    cp = with_token(client, secret, *args)
    assert cp.returncode == 1, harness.describe(cp, "expected exit 1")
    err = harness.parse_json(cp).get("error", {})
    assert err.get("code") == code, harness.describe(cp, "expected %s" % code)
    return err


def test_read_and_write_tokens(server, admin):
    read = admin.ok("token", "create", "--name", "nightly report", "--scope", "read")
    write = admin.ok("token", "create", "--name", "hr sync", "--scope", "write",
                     "--expires-days", "7")
    assert read["token"]["scope"] == "read" and write["token"]["scope"] == "write"
    assert read["secret"] != write["secret"] and len(read["secret"]) >= 40
    bare = server.client()  # no saved session at all
    assert ok_with(bare, read["secret"], "whoami")["user"]["email"] == ADMIN_EMAIL
    ok_with(bare, read["secret"], "user", "list")
    err = refused_with(bare, read["secret"], "PERMISSION_DENIED", "user", "invite", "--email",
                       "%s@acme.test" % harness.unique("r"))
    assert "only read" in err["message"]
    made = ok_with(bare, write["secret"], "user", "invite", "--email",
                   "%s@acme.test" % harness.unique("w"))
    assert made["invite_code"]
    # A token cannot make tokens.
    refused_with(bare, write["secret"], "FAILED_PRECONDITION", "token", "create", "--name", "x",
                 "--scope", "write")
    # The list shows both, with use recorded; the secret is never shown again.
    tokens = {t["id"]: t for t in admin.ok("token", "list")["tokens"]}
    assert tokens[read["token"]["id"]]["last_used_at"] is not None
    assert "secret" not in str(tokens)
    # Revoked: refused at once; revoking twice says so.
    admin.ok("token", "revoke", str(read["token"]["id"]))
    refused_with(bare, read["secret"], "UNAUTHENTICATED", "whoami")
    admin.fail("token", "revoke", str(read["token"]["id"]), code="NOT_FOUND")
    assert admin.ok("token", "list")["tokens"][1]["revoked"] is True


def test_tokens_are_personal_and_outlive_logout_all(server, admin):
    person = server.make_user(admin)
    tok = person.client.ok("token", "create", "--name", "mine", "--scope", "write")
    # Nobody else sees or revokes it.
    assert all(t["id"] != tok["token"]["id"] for t in admin.ok("token", "list")["tokens"])
    admin.fail("token", "revoke", str(tok["token"]["id"]), code="NOT_FOUND")
    # logout --all ends login sessions, not tokens.
    cp = person.client.ctl("logout", "--all")
    assert cp.returncode == 0, harness.describe(cp, "logout --all")
    bare = server.client()
    assert ok_with(bare, tok["secret"], "whoami")["user"]["email"] == person.email
    # Deactivating the user ends the token.
    admin.ok("user", "deactivate", str(person.user["id"]))
    refused_with(bare, tok["secret"], "UNAUTHENTICATED", "whoami")


def test_tokens_do_not_expire_when_idle(server_factory):
    srv = server_factory(start=False)
    srv.start(extra_args=["--session-idle", "2"])
    admin = srv.login_admin()
    tok = admin.ok("token", "create", "--name", "cron", "--scope", "read")
    time.sleep(3.5)
    cp = admin.ctl("whoami")
    assert cp.returncode == 1 and "UNAUTHENTICATED" in cp.stderr, harness.describe(cp, "idle")
    assert ok_with(srv.client(), tok["secret"], "whoami")["user"]["email"] == ADMIN_EMAIL


def test_bad_token_requests(server, admin):
    admin.fail("token", "create", "--name", "", "--scope", "read", code="INVALID_ARGUMENT")
    cp = admin.ctl("token", "create", "--name", "x", "--scope", "admin")
    assert cp.returncode == 2, harness.describe(cp, "bad scope is a usage error")
    cp = admin.ctl("token", "create", "--name", "x", "--scope", "read", "--expires-days", "400")
    assert cp.returncode == 2, harness.describe(cp, "too long")
    refused_with(server.client(), "not-a-real-token", "UNAUTHENTICATED", "whoami")


@pytest.fixture(scope="module")
def world(server, pb):
    w = World(server, pb)
    try:
        yield w
    finally:
        w.close()


def test_read_token_against_every_kind(world, pb):
    """Through the raw protocol: with a read token, every kind outside
    READ_KINDS is refused with PERMISSION_DENIED, and the kinds inside are
    not refused for scope."""
    for kind in READ_KINDS:
        assert kind in PERMISSIONS, kind
    rep = world.admin.ok("token_create", pb.TokenCreate(name="matrix", scope=pb.TOKEN_READ))
    c = harness.RawConn(pb, world.server.port, world.server.ca_path)
    problems = []
    try:
        assert c.hello().status.code == pb.OK
        r = c.call("login", pb.Login(session_token=rep.secret))
        assert r.status.code == pb.OK, r.status
        for kind in request_kinds(pb):
            if PERMISSIONS[kind][0] is None or kind == "logout":
                continue
            r = c.call(kind, empty(pb, kind))
            got = code_name(pb, r.status.code)
            read_only = "only read" in r.status.message
            if kind in READ_KINDS and read_only:
                problems.append("%s refused to a read token: %s" % (kind, r.status.message))
            if kind not in READ_KINDS and not (got == "PERMISSION_DENIED" and read_only):
                problems.append("%s with a read token: expected PERMISSION_DENIED (read only), "
                                "got %s %s" % (kind, got, r.status.message))
    finally:
        c.close()
    assert not problems, "\n".join(problems)
