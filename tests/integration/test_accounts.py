"""Accounts, sessions, roles and organizations, driven through mentorctl the
way people use it: initialization, login and its throttling, invitations,
role checks, deactivation, logout, tenant isolation between organizations,
server identity (--ca and fingerprint pinning) and the client's exit codes.

Most tests share one server per module and make their own users with unique
emails; tests about server identity or life cycle start their own servers.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from datetime import timedelta

import pytest

import harness
from harness import ADMIN_EMAIL, ADMIN_NAME, ADMIN_PASSWORD, ORG, ORG_NAME, now_utc, parse_time


def refused(cp, code, rc=1):
    """mentorctl without --json: exit `rc` and 'error: CODE: message'."""
    assert cp.returncode == rc, harness.describe(cp, "expected exit %d" % rc)
    assert ("error: %s:" % code) in cp.stderr, harness.describe(cp, "expected error %s" % code)


def user_of(doc):
    """A user object from `user show` / `user update` output, which may be
    wrapped as {"user": {...}}."""
    return doc["user"] if isinstance(doc.get("user"), dict) else doc


def same_id(a, b):
    return int(a) == int(b)


def login_cp(client, email, password, org=ORG, **kw):
    return client.ctl(
        "login", "--org", org, "--email", email, "--password-stdin", input=password + "\n", **kw
    )


# ---------------------------------------------------------------------------
# Initialization and server life cycle


def test_init_twice_fails_clearly(server_factory):
    srv = server_factory(start=False)
    # init leaves nothing running behind it.
    assert harness._postmaster_pids(srv.data_dir) == [], "PostgreSQL left running by init"
    cp = srv.run_init()
    assert cp.returncode != 0, harness.describe(cp, "second init must fail")
    assert "already initialized" in (cp.stdout + cp.stderr).lower(), harness.describe(
        cp, "second init must say the directory is already initialized"
    )
    assert harness._postmaster_pids(srv.data_dir) == []
    # The refused second run did not damage the first one.
    srv.start()
    c = srv.login_admin()
    assert c.whoami()["user"]["email"] == ADMIN_EMAIL


def test_ca_location_is_logged(server):
    assert os.path.isfile(server.ca_path)
    assert server.ca_log_sha256, "no event=tls_ca line with sha256= in the log:\n" + server.log_tail()
    assert server.ca_log_sha256 == harness.cert_sha256(server.ca_path)
    if server.ca_log_path:
        assert os.path.samefile(server.ca_log_path, server.ca_path)


def test_sigint_stops_cleanly_and_data_survives_restart(server_factory):
    srv = server_factory()
    admin = srv.login_admin()
    member = srv.make_user(admin)
    problems = srv.stop(sig=signal.SIGINT, check=False)
    assert problems == [], "\n".join(problems) + "\n" + srv.log_tail()
    srv.start(port=srv.port)
    # Users, passwords and sessions live in the database and survive.
    assert admin.whoami()["user"]["email"] == ADMIN_EMAIL
    assert member.client.whoami()["user"]["email"] == member.email
    fresh = srv.client()
    fresh.login(member.email, member.password)


# ---------------------------------------------------------------------------
# Login


def test_login_and_whoami(server, admin):
    doc = admin.whoami()
    user, org = doc["user"], doc["org"]
    assert user["email"] == ADMIN_EMAIL
    assert user["display_name"] == ADMIN_NAME
    assert user["role"] == "admin"
    assert user["active"] is True
    assert user["operator"] is True
    assert int(user["id"]) > 0
    assert org["slug"] == ORG
    assert org["name"] == ORG_NAME
    assert int(org["id"]) > 0
    expires = parse_time(doc["session_expires_at"])
    assert expires > now_utc() + timedelta(minutes=5)

    cp = admin.ctl("whoami")
    assert cp.returncode == 0, harness.describe(cp, "plain whoami")
    assert ADMIN_EMAIL in cp.stdout

    shown = admin.ok("org", "show")
    shown = shown.get("org", shown)
    assert shown["slug"] == ORG
    assert int(shown["user_count"]) >= 1


def test_bad_credentials_all_look_the_same(server, admin):
    person = server.make_user(admin)
    c = server.client()

    wrong_password = login_cp(c, person.email, "not the password at all")
    unknown_user = login_cp(c, "ghost-%s@acme.test" % harness.unique(), "whatever password")
    unknown_org = login_cp(c, person.email, person.password, org=harness.unique("noorg"))
    for cp in (wrong_password, unknown_user, unknown_org):
        refused(cp, "UNAUTHENTICATED")
        assert "invalid credentials" in cp.stderr
    # Nothing tells which part was wrong.
    assert wrong_password.stderr == unknown_user.stderr == unknown_org.stderr

    err = c.fail(
        "login", "--org", ORG, "--email", person.email, "--password-stdin",
        input="still wrong password\n", code="UNAUTHENTICATED",
    )
    assert "invalid credentials" in err["message"]

    # A failed login leaves no session behind, and the account still works.
    assert c.ctl("whoami").returncode != 0
    c.login(person.email, person.password)
    assert c.whoami()["user"]["email"] == person.email


def test_five_failures_lock_the_account(server, admin):
    person = server.make_user(admin)
    c = server.client()
    for attempt in range(5):
        cp = login_cp(c, person.email, "wrong password %d" % attempt)
        refused(cp, "UNAUTHENTICATED")
    # Now even the right password is refused for a while.
    refused(login_cp(c, person.email, person.password), "RESOURCE_EXHAUSTED")
    c.fail(
        "login", "--org", ORG, "--email", person.email, "--password-stdin",
        input=person.password + "\n", code="RESOURCE_EXHAUSTED",
    )
    # Throttling is per account: others log in normally.
    other = server.login_admin()
    assert other.whoami()["user"]["email"] == ADMIN_EMAIL
    # The wait is 15 seconds, not a lockout; each further failure doubles it.
    time.sleep(16)
    refused(login_cp(c, person.email, "wrong password again"), "UNAUTHENTICATED")
    cp = login_cp(c, person.email, person.password)
    refused(cp, "RESOURCE_EXHAUSTED")
    seconds = int(re.search(r"try again in (\d+) seconds", cp.stderr).group(1))
    assert 20 <= seconds <= 30, cp.stderr


def test_logout_ends_the_session_everywhere(server, admin):
    c = server.login_admin()
    assert c.whoami()["user"]["email"] == ADMIN_EMAIL
    # Keep a copy of the saved session to replay it after logout.
    saved = os.path.join(c.home, "saved-state")
    shutil.copytree(c.state_dir, saved)
    cp = c.ctl("logout")
    assert cp.returncode == 0, harness.describe(cp, "logout")
    assert c.ctl("whoami").returncode != 0
    shutil.rmtree(c.state_dir)
    shutil.copytree(saved, c.state_dir)
    refused(c.ctl("whoami"), "UNAUTHENTICATED")
    # Other sessions of the same user are not affected.
    assert admin.whoami()["user"]["email"] == ADMIN_EMAIL


def test_logout_all_ends_every_session_of_the_user(server, admin, pb):
    person = server.make_user(admin)
    second = server.client()
    second.login(person.email, person.password)
    raw = harness.RawConn(pb, server.port, server.ca_path)
    try:
        assert raw.hello().status.code == pb.OK
        assert raw.login(person.email, person.password).status.code == pb.OK
        cp = person.client.ctl("logout", "--all")
        assert cp.returncode == 0, harness.describe(cp, "logout --all")
        assert "every session" in cp.stdout
        # The other client's saved session and the live connection are done.
        refused(second.ctl("whoami"), "UNAUTHENTICATED")
        r = raw.call("whoami")
        assert pb.Code.Name(r.status.code) == "UNAUTHENTICATED", r.status
    finally:
        raw.close()
    # Other users are not affected.
    assert admin.whoami()["user"]["email"] == ADMIN_EMAIL


def test_password_change(server, admin):
    person = server.make_user(admin)
    other = server.client()
    other.login(person.email, person.password)
    new = "new-" + harness.unique("pw")
    c = person.client
    # A wrong current password, a short new one, and the same one are refused.
    c.fail("password", "change", "--password-stdin", input="wrong password\n%s\n" % new,
           code="INVALID_ARGUMENT")
    c.fail("password", "change", "--password-stdin",
           input="%s\nshort\n" % person.password, code="INVALID_ARGUMENT")
    c.fail("password", "change", "--password-stdin",
           input="%s\n%s\n" % (person.password, person.password), code="INVALID_ARGUMENT")
    cp = c.ctl("password", "change", "--password-stdin",
               input="%s\n%s\n" % (person.password, new))
    assert cp.returncode == 0, harness.describe(cp, "password change")
    # This session goes on; the other one has ended; only the new password works.
    assert c.whoami()["user"]["email"] == person.email
    refused(other.ctl("whoami"), "UNAUTHENTICATED")
    refused(login_cp(server.client(), person.email, person.password), "UNAUTHENTICATED")
    server.client().login(person.email, new)
    # Not on the command line, and not without a terminal or --password-stdin.
    cp = c.ctl("password", "change", input="")
    assert cp.returncode == 2, harness.describe(cp, "no terminal")


def test_admin_resets_a_password(server, admin, pb):
    person = server.make_user(admin)
    raw = harness.RawConn(pb, server.port, server.ca_path)
    try:
        assert raw.hello().status.code == pb.OK
        assert raw.login(person.email, person.password).status.code == pb.OK
        first = admin.ok("user", "reset-password", str(person.user["id"]))
        second = admin.ok("user", "reset-password", str(person.user["id"]))
        assert first["invite_code"] != second["invite_code"]
        assert second["user"]["invite_pending"] is True
        # Sessions ended at once; the old password and the first code are dead.
        assert pb.Code.Name(raw.call("whoami").status.code) == "UNAUTHENTICATED"
    finally:
        raw.close()
    refused(person.client.ctl("whoami"), "UNAUTHENTICATED")
    refused(login_cp(server.client(), person.email, person.password), "UNAUTHENTICATED")
    c = server.client()
    c.fail("invite", "accept", first["invite_code"], "--password-stdin",
           input="another password 1\n", code="NOT_FOUND")
    cp = c.ctl("invite", "accept", second["invite_code"], "--password-stdin",
               input="another password 2\n")
    assert cp.returncode == 0, harness.describe(cp, "accept the reset code")
    assert c.whoami()["user"]["email"] == person.email
    # Not on yourself, not by a member, not for an unknown id.
    me = admin.whoami()["user"]["id"]
    admin.fail("user", "reset-password", str(me), code="FAILED_PRECONDITION")
    person.client.login(person.email, "another password 2")
    person.client.fail("user", "reset-password", str(me), code="PERMISSION_DENIED")
    admin.fail("user", "reset-password", "9000000000000", code="NOT_FOUND")


def test_idle_session_expires(server_factory):
    srv = server_factory(start=False)
    srv.start(extra_args=["--session-idle", "3"])
    c = srv.login_admin()
    # Use keeps the session alive past the idle time...
    for _ in range(3):
        time.sleep(1.2)
        assert c.whoami()["user"]["email"] == ADMIN_EMAIL
    # ...and leaving it unused ends it, for requests and for resumption.
    time.sleep(4)
    refused(c.ctl("whoami"), "UNAUTHENTICATED")


def test_failed_logins_are_throttled_per_address(server_factory):
    srv = server_factory(start=False)
    srv.start(extra_args=["--max-address-failures", "3"])
    admin = srv.login_admin()
    person = srv.make_user(admin)
    c = srv.client()
    # Three failures against three different accounts (none reaches the
    # per-account limit)...
    for i in range(3):
        refused(login_cp(c, "nobody%d@acme.test" % i, "wrong password"), "UNAUTHENTICATED")
    # ...and this address must wait, even with a right password.
    cp = login_cp(c, person.email, person.password)
    refused(cp, "RESOURCE_EXHAUSTED")
    assert "from your address" in cp.stderr
    # Sessions already open are not affected.
    assert admin.whoami()["user"]["email"] == ADMIN_EMAIL


# ---------------------------------------------------------------------------
# Invitations and roles


def test_invite_and_accept(server, admin):
    email = "%s@acme.test" % harness.unique("new")
    doc = admin.ok("user", "invite", "--email", email, "--name", "Mia Member")
    user = doc["user"]
    assert user["email"] == email
    assert user["display_name"] == "Mia Member"
    assert user["role"] == "member"
    assert user["invite_pending"] is True
    code = doc["invite_code"]
    assert isinstance(code, str) and len(code) >= 8
    expires = parse_time(doc["invite_expires_at"])
    assert now_utc() + timedelta(days=6) < expires < now_utc() + timedelta(days=8)

    # The same email cannot be invited twice.
    admin.fail("user", "invite", "--email", email, code="ALREADY_EXISTS")

    c = server.client()
    # Too short a password is refused and does not use up the code.
    cp = c.ctl("invite", "accept", code, "--password-stdin", input="short\n")
    assert cp.returncode in (1, 2), harness.describe(cp, "short password must be refused")
    password = "a good long password"
    cp = c.ctl("invite", "accept", code, "--password-stdin", input=password + "\n")
    assert cp.returncode == 0, harness.describe(cp, "invite accept")
    # The code works once.
    again = server.client().ctl("invite", "accept", code, "--password-stdin", input="another password 123\n")
    assert again.returncode == 1, harness.describe(again, "a used code must be refused")
    # A made-up code is refused too.
    bogus = server.client().ctl(
        "invite", "accept", "not-a-real-code-123", "--password-stdin", input="another password 123\n"
    )
    assert bogus.returncode == 1, harness.describe(bogus, "an unknown code must be refused")

    fresh = server.client()
    fresh.login(email, password)
    who = fresh.whoami()
    assert who["user"]["email"] == email
    assert who["user"]["role"] == "member"
    assert who["user"]["operator"] is False
    assert who["org"]["slug"] == ORG

    shown = user_of(admin.ok("user", "show", str(user["id"])))
    assert shown["invite_pending"] is False
    assert shown["active"] is True


def test_member_cannot_manage_users(server, admin):
    member = server.make_user(admin, "member")
    m = member.client
    cp = m.ctl("user", "invite", "--email", "%s@acme.test" % harness.unique())
    refused(cp, "PERMISSION_DENIED")
    m.fail("user", "invite", "--email", "%s@acme.test" % harness.unique(), code="PERMISSION_DENIED")
    m.fail("user", "list", code="PERMISSION_DENIED")
    m.fail("user", "update", str(member.id), "--role", "admin", code="PERMISSION_DENIED")
    m.fail("user", "deactivate", str(member.id), code="PERMISSION_DENIED")
    m.fail("org", "list", code="PERMISSION_DENIED")
    # Members see themselves, not others.
    me = user_of(m.ok("user", "show", str(member.id)))
    assert me["email"] == member.email
    admin_id = admin.whoami()["user"]["id"]
    cp = m.ctl("user", "show", str(admin_id), json=True)
    assert cp.returncode == 1, harness.describe(cp, "member must not see other users")
    assert harness.parse_json(cp)["error"]["code"] in ("PERMISSION_DENIED", "NOT_FOUND")
    assert m.whoami()["user"]["role"] == "member"


def test_coordinator_can_list_but_not_invite(server, admin):
    coord = server.make_user(admin, "coordinator")
    c = coord.client
    assert c.whoami()["user"]["role"] == "coordinator"
    users = c.ok("user", "list")["users"]
    emails = {u["email"] for u in users}
    assert ADMIN_EMAIL in emails
    assert coord.email in emails
    shown = user_of(c.ok("user", "show", "--email", ADMIN_EMAIL))
    assert shown["role"] == "admin"
    refused(c.ctl("user", "invite", "--email", "%s@acme.test" % harness.unique()), "PERMISSION_DENIED")
    c.fail("user", "update", str(coord.id), "--role", "admin", code="PERMISSION_DENIED")
    c.fail("user", "deactivate", str(shown["id"]), code="PERMISSION_DENIED")


def test_user_update_role_and_name(server, admin):
    person = server.make_user(admin, "member")
    doc = admin.ok("user", "update", str(person.id), "--role", "coordinator", "--name", "Renamed Person")
    updated = user_of(doc)
    assert same_id(updated["id"], person.id)
    assert updated["role"] == "coordinator"
    assert updated["display_name"] == "Renamed Person"
    shown = user_of(admin.ok("user", "show", str(person.id)))
    assert shown["role"] == "coordinator"
    assert shown["display_name"] == "Renamed Person"
    # The change applies to the person's existing session at once.
    assert person.client.whoami()["user"]["role"] == "coordinator"
    person.client.ok("user", "list")
    # Name only: the role stays.
    kept = user_of(admin.ok("user", "update", str(person.id), "--name", "Only Name"))
    assert kept["role"] == "coordinator"
    # Demotion applies at once as well.
    admin.ok("user", "update", str(person.id), "--role", "member")
    person.client.fail("user", "list", code="PERMISSION_DENIED")

    # An admin cannot remove their own admin role.
    me = admin.whoami()["user"]
    cp = admin.ctl("user", "update", str(me["id"]), "--role", "member")
    assert cp.returncode == 1, harness.describe(cp, "self-demotion must be refused")
    assert admin.whoami()["user"]["role"] == "admin"

    admin.fail("user", "update", "987654321", "--name", "Nobody", code="NOT_FOUND")


def test_deactivated_user_is_locked_out_at_once(server, admin):
    person = server.make_user(admin)
    assert person.client.whoami()["user"]["email"] == person.email
    cp = admin.ctl("user", "deactivate", str(person.id))
    assert cp.returncode == 0, harness.describe(cp, "deactivate")
    # The saved session stops working immediately.
    refused(person.client.ctl("whoami"), "UNAUTHENTICATED")
    refused(login_cp(server.client(), person.email, person.password), "UNAUTHENTICATED")

    listed = {u["email"] for u in admin.ok("user", "list")["users"]}
    assert person.email not in listed
    everyone = {u["email"]: u for u in admin.ok("user", "list", "--all")["users"]}
    assert person.email in everyone
    assert everyone[person.email]["active"] is False
    assert user_of(admin.ok("user", "show", str(person.id)))["active"] is False

    # An admin cannot deactivate themself.
    me = admin.whoami()["user"]
    cp = admin.ctl("user", "deactivate", str(me["id"]))
    assert cp.returncode == 1, harness.describe(cp, "self-deactivation must be refused")
    assert admin.whoami()["user"]["active"] is True


# ---------------------------------------------------------------------------
# Organizations


def test_operator_creates_an_isolated_org(server, admin):
    slug = harness.unique("org")
    boss_email = "boss@%s.test" % slug
    doc = admin.ok(
        "org", "create", "--slug", slug, "--name", "Beta Org",
        "--admin-email", boss_email, "--admin-name", "Bea Boss",
    )
    assert doc["org"]["slug"] == slug
    assert doc["org"]["name"] == "Beta Org"
    assert doc["admin"]["email"] == boss_email
    assert doc["admin"]["role"] == "admin"
    code = doc["invite_code"]
    assert code

    admin.fail(
        "org", "create", "--slug", slug, "--name", "Again", "--admin-email", "x@%s.test" % slug,
        code="ALREADY_EXISTS",
    )

    boss = server.client()
    password = "beta boss password"
    cp = boss.ctl("invite", "accept", code, "--password-stdin", input=password + "\n")
    assert cp.returncode == 0, harness.describe(cp, "org admin invite accept")
    boss.login(boss_email, password, org=slug)
    who = boss.whoami()
    assert who["org"]["slug"] == slug
    assert who["user"]["role"] == "admin"
    assert who["user"]["operator"] is False

    # Only their own organization is visible.
    emails = {u["email"] for u in boss.ok("user", "list", "--all")["users"]}
    assert emails == {boss_email}
    acme_admin_id = str(admin.whoami()["user"]["id"])
    boss.fail("user", "show", acme_admin_id, code="NOT_FOUND")
    boss.fail("user", "show", "--email", ADMIN_EMAIL, code="NOT_FOUND")
    boss.fail("user", "update", acme_admin_id, "--name", "Hijacked", code="NOT_FOUND")
    boss.fail("user", "deactivate", acme_admin_id, code="NOT_FOUND")
    shown = boss.ok("org", "show")
    assert shown.get("org", shown)["slug"] == slug
    # And the other way round.
    boss_id = str(who["user"]["id"])
    admin.fail("user", "show", boss_id, code="NOT_FOUND")
    assert boss_email not in {u["email"] for u in admin.ok("user", "list", "--all")["users"]}
    assert admin.whoami()["user"]["active"] is True

    # Managing organizations is for the operator only.
    boss.fail("org", "list", code="PERMISSION_DENIED")
    boss.fail(
        "org", "create", "--slug", harness.unique("org"), "--name", "Nope",
        "--admin-email", "n@nope.test", code="PERMISSION_DENIED",
    )
    slugs = {o["slug"] for o in admin.ok("org", "list")["orgs"]}
    assert {ORG, slug} <= slugs


def test_non_operator_admin_cannot_manage_orgs(server, admin):
    second = server.make_user(admin, "admin")
    assert second.client.whoami()["user"]["operator"] is False
    refused(second.client.ctl("org", "list"), "PERMISSION_DENIED")
    second.client.fail(
        "org", "create", "--slug", harness.unique("org"), "--name", "Nope",
        "--admin-email", "n@nope.test", code="PERMISSION_DENIED",
    )


# ---------------------------------------------------------------------------
# Server identity and exit codes


def test_ca_is_verified(server):
    c = server.client()
    c.login(ADMIN_EMAIL, ADMIN_PASSWORD, ca=True)
    assert c.whoami()["org"]["slug"] == ORG
    # The certificate also names localhost.
    by_name = harness.Client(server, os.path.join(server.root, "clients", "by-name"), host="localhost")
    by_name.login(ADMIN_EMAIL, ADMIN_PASSWORD)


def test_fingerprint_pinned_on_first_use(server_factory):
    first = server_factory()
    port = first.port
    c = first.client()
    cp = login_cp(c, ADMIN_EMAIL, ADMIN_PASSWORD, ca=False)
    assert cp.returncode == 0, harness.describe(cp, "first use without --ca")
    assert cp.stderr.strip(), "first use must print a notice about the pinned fingerprint"
    known = os.path.join(c.state_dir, "mentorctl", "known_servers")
    assert os.path.isfile(known), "expected %s" % known
    with open(known) as f:
        pinned = f.read()
    assert str(port) in pinned

    cp = c.ctl("whoami", ca=False)
    assert cp.returncode == 0, harness.describe(cp, "second use of a pinned server")
    # The server keeps its certificate across restarts.
    first.restart()
    cp = c.ctl("whoami", ca=False)
    assert cp.returncode == 0, harness.describe(cp, "pinned server after restart")

    # Another server (new CA, new certificate) on the same address.
    first.stop()
    second = server_factory(port=port)
    assert harness.cert_sha256(second.ca_path) != harness.cert_sha256(first.ca_path)
    cp = c.ctl("whoami", ca=False)
    assert cp.returncode == 3, harness.describe(cp, "a changed fingerprint must be refused")
    cp = login_cp(c, ADMIN_EMAIL, ADMIN_PASSWORD, ca=False)
    assert cp.returncode == 3, harness.describe(cp, "a changed fingerprint must be refused")
    with open(known) as f:
        assert f.read() == pinned, "a refused server must not replace the pin"

    # --ca with the wrong CA is refused too; the right one works.
    cp = login_cp(second.client(), ADMIN_EMAIL, ADMIN_PASSWORD, ca=first.ca_path)
    assert cp.returncode == 3, harness.describe(cp, "wrong --ca must be refused")
    second.login_admin()


@pytest.fixture
def bare_ctl(scratch_dir):
    """mentorctl with private state and no server fixture."""
    harness.check_binaries()
    env = dict(os.environ)
    env.update(
        HOME=scratch_dir,
        XDG_STATE_HOME=os.path.join(scratch_dir, "state"),
        XDG_CONFIG_HOME=os.path.join(scratch_dir, "config"),
    )

    def run(*args, input=""):
        cp = subprocess.run(
            [harness.MENTORCTL_BIN] + list(args),
            input=input, capture_output=True, text=True, env=env, timeout=harness.CTL_TIMEOUT,
        )
        harness._check_sanitizers(cp.stderr, "mentorctl")
        return cp

    return run


def test_exit_3_when_nothing_listens(bare_ctl):
    addr = "127.0.0.1:%d" % harness.free_port()
    cp = bare_ctl("--server", addr, "whoami")
    assert cp.returncode == 3, harness.describe(cp, "connection refused")
    cp = bare_ctl(
        "--server", addr, "login", "--org", ORG, "--email", ADMIN_EMAIL, "--password-stdin",
        input=ADMIN_PASSWORD + "\n",
    )
    assert cp.returncode == 3, harness.describe(cp, "connection refused")


class NotTls:
    """A TCP listener that answers like an HTTP server, or hangs up."""

    def __init__(self, reply):
        self.reply = reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(30)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            while True:
                conn, _ = self.sock.accept()
                with conn:
                    if self.reply:
                        conn.sendall(self.reply)
        except OSError:
            pass

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.mark.parametrize("reply", [b"HTTP/1.0 400 Bad Request\r\n\r\n", b""], ids=["http", "hangup"])
def test_exit_3_when_peer_does_not_speak_tls(bare_ctl, reply):
    peer = NotTls(reply)
    try:
        cp = bare_ctl("--server", "127.0.0.1:%d" % peer.port, "whoami")
        assert cp.returncode == 3, harness.describe(cp, "TLS failure")
    finally:
        peer.close()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["--no-such-option", "whoami"],
        ["user", "invite"],
        ["user", "update", "5", "--role", "wizard"],
        ["login", "--org", ORG],
    ],
    ids=["no-command", "unknown-command", "unknown-option", "missing-email", "bad-role", "login-no-email"],
)
def test_usage_errors_exit_2(bare_ctl, args):
    # Nothing listens there: usage is checked before connecting.
    cp = bare_ctl("--server", "127.0.0.1:%d" % harness.free_port(), *args)
    assert cp.returncode == 2, harness.describe(cp, "usage error")
    assert cp.stderr.strip(), "a usage error must say what is wrong"
