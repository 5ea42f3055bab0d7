"""The database side of mentord, against real PostgreSQL servers: an external
cluster set up the way a deployment would be (a superuser that owns the
schema, a mentord_app login role, `mentord init --db/--db-owner`), the
database going away under a running server and coming back, a database that
is down when mentord starts, the embedded PostgreSQL dying under a running
server, and database URLs that cannot work.

Every test that needs a PostgreSQL makes its own throwaway cluster
(harness.PgCluster) in its own directory under /tmp, with its own socket and
port, and every test starts its own mentord, so this file runs alongside the
others. Clusters and servers are stopped and removed however a test ends.
"""

import contextlib
import glob
import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

import harness
from harness import ADMIN_EMAIL, ADMIN_PASSWORD, ORG

# What docker/initdb/10-mentord-app.sh does for the compose deployment: the
# runtime role exists before mentord first runs, and may log in.
APP_ROLE_SQL = "CREATE ROLE mentord_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"

# How long a request may take to be refused while the database is down.
DOWN_ANSWER_LIMIT = 5
# How long a request may wait for a database that hangs (mentord's
# transaction timeout is 10 s).
HUNG_ANSWER_LIMIT = 15
# How long mentord may take to serve again once the database is back.
RECOVERY_LIMIT = 10
# How long mentord may take to notice its embedded PostgreSQL died.
CHILD_DEATH_LIMIT = 15
# How long a mentord that cannot reach its database may take to give up.
START_FAILURE_LIMIT = 30


def code_name(pb, code):
    return pb.Code.Name(code)


def check_ok(pb, r, result=None):
    assert r.status.code == pb.OK, "expected OK, got %s: %s" % (
        code_name(pb, r.status.code),
        r.status.message,
    )
    if result is not None:
        assert r.WhichOneof("result") == result
    return r


def check_code(pb, r, name):
    assert r.status.code == pb.Code.Value(name), "expected %s, got %s: %s" % (
        name,
        code_name(pb, r.status.code),
        r.status.message,
    )
    assert r.status.message, "an error status must carry a message"
    assert r.WhichOneof("result") is None, "an error response carries no result"
    return r


def db_args(cluster, app=None, owner=None):
    return [
        "--db", app if app is not None else cluster.conninfo("mentord_app"),
        "--db-owner", owner if owner is not None else cluster.conninfo(cluster.owner),
    ]


def run_mentord(args, limit=START_FAILURE_LIMIT, input=None):
    """Run mentord with `args` to completion. A mentord still running after
    `limit` seconds (for instance serving although it was expected to
    refuse) is stopped and reported with rc None. Returns (rc, output)."""
    argv = [harness.MENTORD_BIN] + list(args)
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=harness._die_with_parent,
    )
    try:
        out, _ = proc.communicate(input=input or "", timeout=limit)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            out, _ = proc.communicate(timeout=harness.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        rc = None
    harness._check_sanitizers(out, "mentord " + " ".join(args))
    return rc, out


def serve_args(data_dir, port=None):
    return ["--data-dir", data_dir, "--listen", "127.0.0.1:%d" % (port or harness.free_port())]


def init_args(data_dir):
    return [
        "init",
        "--data-dir", data_dir,
        "--org-slug", ORG,
        "--org-name", harness.ORG_NAME,
        "--admin-email", ADMIN_EMAIL,
        "--password-stdin",
    ]


def assert_refused_start(rc, out, what, *expected):
    """mentord gave up at start: non-zero exit, never served, and its
    output says what is wrong (each of `expected`, case-insensitive)."""
    report = "%s\nexit: %s\noutput:\n%s" % (what, rc, out)
    assert rc is not None, "mentord kept running instead of refusing to start: " + report
    assert rc != 0, "mentord exited 0: " + report
    assert "event=listening" not in out, "mentord served before giving up: " + report
    low = out.lower()
    for e in expected:
        assert e.lower() in low, "expected %r in the output: %s" % (e, report)


@pytest.fixture
def cluster():
    """A fresh PostgreSQL cluster with the database `mentord` and the role
    mentord_app (LOGIN, neither SUPERUSER nor BYPASSRLS)."""
    c = harness.PgCluster.create()
    try:
        c.psql(APP_ROLE_SQL)
        yield c
    finally:
        c.destroy()


@pytest.fixture
def external(cluster):
    """mentord initialized on and serving from `cluster`, with its TLS files
    generated in its data directory."""
    srv = harness.Server.create(db_args=db_args(cluster))
    try:
        yield srv
    finally:
        srv.destroy()


def logged_in(pb, srv, timeout=30):
    c = harness.RawConn(pb, srv.port, srv.ca_path, timeout=timeout)
    try:
        check_ok(pb, c.hello(), "hello")
        check_ok(pb, c.login(), "login")
    except BaseException:
        c.close()
        raise
    return c


def timed_call(conn, limit, kind, msg=None, **fields):
    """Send one request and wait at most `limit` seconds for its answer;
    returns (response, seconds)."""
    start = time.monotonic()
    conn.sock.settimeout(limit)
    try:
        r = conn.call(kind, msg, **fields)
    except socket.timeout:
        raise AssertionError("%s got no answer within %ds" % (kind, limit))
    finally:
        conn.sock.settimeout(30)
    return r, time.monotonic() - start


# ---------------------------------------------------------------------------
# External PostgreSQL


def test_external_database_init_and_serve(cluster, external):
    # No embedded PostgreSQL: the data directory only holds the TLS files.
    assert not os.path.exists(os.path.join(external.data_dir, "pg")), os.listdir(external.data_dir)
    assert harness._postmaster_pids(external.data_dir) == []
    assert os.path.isfile(external.ca_path)

    admin = external.login_admin()
    doc = admin.whoami()
    assert doc["user"]["email"] == ADMIN_EMAIL
    assert doc["user"]["role"] == "admin"
    assert doc["user"]["operator"] is True
    assert doc["org"]["slug"] == ORG

    # Every migration shipped in sql/ is recorded, and nothing else.
    shipped = sorted(
        os.path.splitext(os.path.basename(p))[0]
        for p in glob.glob(os.path.join(harness.SOURCE_DIR, "sql", "*.sql"))
    )
    assert "001_init" in shipped
    recorded = [r[0] for r in cluster.rows("SELECT version FROM schema_migrations ORDER BY version")]
    assert recorded == shipped

    # The runtime role: may log in, no superuser, no BYPASSRLS.
    assert cluster.rows(
        "SELECT rolcanlogin, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'mentord_app'"
    ) == [["t", "f", "f"]]
    # ... owns nothing: no table, sequence, view, function or schema.
    owned = cluster.rows(
        "SELECT 'rel ' || relname FROM pg_class WHERE relowner = 'mentord_app'::regrole"
        " UNION ALL SELECT 'proc ' || proname FROM pg_proc WHERE proowner = 'mentord_app'::regrole"
        " UNION ALL SELECT 'schema ' || nspname FROM pg_namespace"
        " WHERE nspowner = 'mentord_app'::regrole"
    )
    assert owned == [], "mentord_app owns %s" % owned
    # ... and is what the server's requests use.
    app_sessions = cluster.rows(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'mentord' AND usename = 'mentord_app'"
    )
    assert int(app_sessions[0][0]) >= 1, "no connection of mentord_app to the database"

    # Row-level security is on and forced for every table with an org_id.
    tables = cluster.rows(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity"
        " FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace"
        " JOIN pg_attribute a ON a.attrelid = c.oid"
        " WHERE a.attname = 'org_id' AND NOT a.attisdropped AND a.attnum > 0"
        "   AND c.relkind IN ('r', 'p')"
        "   AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        " ORDER BY c.relname"
    )
    names = [t[0] for t in tables]
    for expected in ("users", "sessions", "invites"):
        assert expected in names, "no table %s with org_id among %s" % (expected, names)
    unprotected = [t for t in tables if t[1:] != ["t", "t"]]
    assert unprotected == [], "tables with org_id lacking (forced) row-level security: %s" % unprotected

    # Without an organization chosen, mentord_app sees no one's rows.
    assert int(cluster.rows("SELECT count(*) FROM users")[0][0]) >= 1
    assert cluster.rows("SELECT count(*) FROM users", user="mentord_app") == [["0"]]


def test_app_role_that_bypasses_rls_is_refused(cluster, external):
    """README: mentord checks at start that mentord_app has neither
    SUPERUSER nor BYPASSRLS and refuses otherwise."""
    external.stop()
    for attr, back in (("SUPERUSER", "NOSUPERUSER"), ("BYPASSRLS", "NOBYPASSRLS")):
        cluster.psql("ALTER ROLE mentord_app %s" % attr)
        try:
            rc, out = run_mentord(db_args(cluster) + serve_args(external.data_dir))
        finally:
            cluster.psql("ALTER ROLE mentord_app %s" % back)
        assert_refused_start(rc, out, "mentord_app with " + attr, "mentord_app", attr)
    # Put right, the same database serves again.
    external.start()
    external.login_admin().whoami()


# ---------------------------------------------------------------------------
# Database outage under a running server


def test_database_outage_and_recovery(pb, cluster, external):
    admin = external.login_admin()
    conn = logged_in(pb, external)
    try:
        # An acknowledged write just before the outage.
        kept = "%s@%s.test" % (harness.unique("kept"), ORG)
        check_ok(
            pb,
            conn.call("user_invite", email=kept, display_name="Kept Through Outage", role=pb.MEMBER),
            "user_invite",
        )

        cp = cluster.stop(mode="immediate")
        assert cp is not None and cp.returncode == 0, cp and harness.describe(cp, "pg_ctl stop")
        assert not cluster.running()

        lost = "%s@%s.test" % (harness.unique("lost"), ORG)
        for kind, fields in (
            ("whoami", {}),
            ("org_show", {}),
            ("user_list", {}),
            ("user_invite", dict(email=lost, display_name="Invited While Down", role=pb.MEMBER)),
            ("whoami", {}),
        ):
            r, took = timed_call(conn, DOWN_ANSWER_LIMIT, kind, **fields)
            check_code(pb, r, "UNAVAILABLE")
            assert took < DOWN_ANSWER_LIMIT, "%s took %.1fs to be refused" % (kind, took)
        assert external.running(), "mentord exited while the database was down:\n" + external.log_tail()

        # mentorctl reports it the same way, quickly.
        start = time.monotonic()
        admin.fail("whoami", code="UNAVAILABLE", rc=1)
        cp = admin.ctl("whoami")
        assert cp.returncode == 1 and "UNAVAILABLE" in cp.stderr, harness.describe(
            cp, "plain whoami while the database is down"
        )
        assert time.monotonic() - start < 2 * DOWN_ANSWER_LIMIT

        # Fresh connections are still accepted and say the same.
        other = harness.RawConn(pb, external.port, external.ca_path, timeout=DOWN_ANSWER_LIMIT)
        try:
            check_ok(pb, other.hello(), "hello")
            r, _ = timed_call(other, DOWN_ANSWER_LIMIT, "login", org=ORG, email=ADMIN_EMAIL,
                              password=ADMIN_PASSWORD)
            check_code(pb, r, "UNAVAILABLE")
        finally:
            other.close()

        cluster.start()

        # Back within a few seconds, on the very same connection.
        deadline = time.monotonic() + RECOVERY_LIMIT
        while True:
            r, _ = timed_call(conn, DOWN_ANSWER_LIMIT, "whoami")
            if r.status.code == pb.OK:
                break
            check_code(pb, r, "UNAVAILABLE")
            assert time.monotonic() < deadline, (
                "still UNAVAILABLE %ds after the database came back:\n%s"
                % (RECOVERY_LIMIT, external.log_tail())
            )
            time.sleep(0.2)
        assert r.whoami.user.email == ADMIN_EMAIL
        check_ok(pb, conn.call("org_show"), "org")

        # The acknowledged write survived; the refused one did not happen.
        users = check_ok(pb, conn.call("user_list"), "user_list").user_list.users
        emails = [u.email for u in users]
        assert kept in emails
        assert lost not in emails
        check_ok(
            pb,
            conn.call("user_invite", email=lost, display_name="Invited After", role=pb.MEMBER),
            "user_invite",
        )
    finally:
        conn.close()

    assert admin.whoami()["user"]["email"] == ADMIN_EMAIL
    listed = admin.ok("user", "list")
    listed = listed.get("users", listed) if isinstance(listed, dict) else listed
    assert kept in [u["email"] for u in listed]
    assert external.running()


def test_database_that_stops_answering(pb, cluster, external):
    """A database that hangs (every PostgreSQL process stopped) rather than
    going away: requests still get an answer, UNAVAILABLE, within the
    transaction timeout, and service resumes when the database does."""
    conn = logged_in(pb, external)
    postmaster = cluster.postmaster_pid()
    frozen = [postmaster] + harness.child_pids(postmaster)
    try:
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        first = conn.send("whoami")
        second = conn.send("org_show")
        start = time.monotonic()
        conn.sock.settimeout(HUNG_ANSWER_LIMIT)
        try:
            answers = [conn.wait(first), conn.wait(second)]
        except socket.timeout:
            raise AssertionError(
                "no answer within %ds while the database hangs:\n%s"
                % (HUNG_ANSWER_LIMIT, external.log_tail())
            )
        took = time.monotonic() - start
        for r in answers:
            check_code(pb, r, "UNAVAILABLE")
        assert took < HUNG_ANSWER_LIMIT
        assert external.running()
    finally:
        for pid in frozen:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGCONT)
    conn.sock.settimeout(30)

    deadline = time.monotonic() + RECOVERY_LIMIT
    while True:
        r, _ = timed_call(conn, HUNG_ANSWER_LIMIT, "whoami")
        if r.status.code == pb.OK:
            break
        check_code(pb, r, "UNAVAILABLE")
        assert time.monotonic() < deadline, (
            "still UNAVAILABLE %ds after the database resumed:\n%s"
            % (RECOVERY_LIMIT, external.log_tail())
        )
        time.sleep(0.2)
    check_ok(pb, conn.call("org_show"), "org")
    conn.close()


# ---------------------------------------------------------------------------
# A database that is down when mentord starts


def test_database_down_at_start(cluster, external):
    external.stop()
    cluster.stop()
    args = db_args(cluster) + serve_args(external.data_dir)
    start = time.monotonic()
    rc, out = run_mentord(args)
    assert_refused_start(rc, out, "serving on a stopped database", "database", cluster.socket_dir)
    assert time.monotonic() - start < START_FAILURE_LIMIT

    # `mentord init` on a stopped database says so too.
    fresh = os.path.join(external.root, "fresh")
    rc, out = run_mentord(init_args(fresh) + db_args(cluster), input=ADMIN_PASSWORD + "\n")
    assert_refused_start(rc, out, "init on a stopped database", "database", cluster.socket_dir)

    # Only the database was missing: with it back, the same server starts.
    cluster.start()
    external.start()
    assert external.login_admin().whoami()["org"]["slug"] == ORG


# ---------------------------------------------------------------------------
# The embedded PostgreSQL dies


def test_embedded_postgres_killed(pb):
    srv = harness.Server.create()
    leftovers = []
    try:
        # A live database session, so that a backend is running too.
        conn = logged_in(pb, srv)
        conn.close()
        with open(os.path.join(srv.data_dir, "pg", "postmaster.pid"), "r") as f:
            postmaster = int(f.readline().strip())
        assert harness._pid_alive(postmaster)
        backends = harness.child_pids(postmaster)
        assert backends, "postmaster %d has no children" % postmaster

        os.kill(postmaster, signal.SIGKILL)
        try:
            rc = srv.proc.wait(timeout=CHILD_DEATH_LIMIT)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                "mentord still running %ds after its PostgreSQL was killed:\n%s"
                % (CHILD_DEATH_LIMIT, srv.log_tail())
            )
        srv._reap(rc)
        log = srv.log_text()
        assert rc != 0, "mentord exited 0 after losing its PostgreSQL:\n" + srv.log_tail()
        assert any(
            "level=error" in line and "postgres" in line.lower() for line in log.splitlines()
        ), "no error naming PostgreSQL in the log:\n" + srv.log_tail()
        assert "embedded postgresql" in log.lower(), (
            "the log does not name the embedded PostgreSQL:\n" + srv.log_tail()
        )

        # The rest of that PostgreSQL goes away on its own.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(harness._pid_alive(p) for p in backends):
            time.sleep(0.1)
        leftovers = [p for p in backends if harness._pid_alive(p)]
        assert leftovers == [], "PostgreSQL processes left behind: %s" % leftovers
    finally:
        for p in leftovers:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        problems = srv.stop(check=False)
        srv.destroy(check=False)
    assert problems == [], problems


# ---------------------------------------------------------------------------
# Database URLs that cannot work


@pytest.mark.parametrize(
    "url, says",
    [
        ("host=/tmp port=5432 dbname", '"="'),
        ("dbname=mentord no_such_option=1", "no_such_option"),
        ("postgresql://mentord_app@[::1/mentord", "]"),
        ("postgresql://mentord_app@127.0.0.1/mentord?sslmode=sometimes", "sslmode"),
        ("host=127.0.0.1 port=1 dbname=mentord user=mentord_app connect_timeout=5",
         "refused"),
        ("host=db.mentord-test.invalid dbname=mentord user=mentord_app connect_timeout=5",
         "db.mentord-test.invalid"),
    ],
    ids=["missing-equals", "unknown-option", "bad-uri", "bad-sslmode", "refused", "unknown-host"],
)
@pytest.mark.parametrize("command", ["serve", "init"])
def test_unusable_db_url(scratch_dir, url, says, command):
    data_dir = os.path.join(scratch_dir, "data")
    if command == "serve":
        args = ["--db", url] + serve_args(data_dir)
        rc, out = run_mentord(args)
    else:
        args = init_args(data_dir) + ["--db", url]
        rc, out = run_mentord(args, input=ADMIN_PASSWORD + "\n")
    assert_refused_start(rc, out, "mentord %s --db %r" % (command, url), "database", says)


@pytest.mark.parametrize("case", ["malformed", "refused", "cannot-log-in"])
def test_unusable_runtime_url_with_working_owner_url(cluster, external, case):
    """--db is what every request uses. When it cannot work, mentord must say
    so and not serve, even though --db-owner (migrations) works: otherwise
    it listens and answers every request UNAVAILABLE, for ever."""
    external.stop()
    app = cluster.conninfo("mentord_app")
    says = "database"
    if case == "malformed":
        app = "host=%s port=%d dbname" % (cluster.socket_dir, cluster.port)
    elif case == "refused":
        app = "host=127.0.0.1 port=1 dbname=mentord user=mentord_app"
        says = "refused"
    else:
        cluster.psql("ALTER ROLE mentord_app NOLOGIN")
        says = "log in"
    rc, out = run_mentord(db_args(cluster, app=app) + serve_args(external.data_dir), limit=5)
    assert_refused_start(rc, out, "--db %s, working --db-owner" % case, "database", says)


def test_password_in_db_url_is_not_printed(scratch_dir):
    """Passwords are never logged, not even from a URL mentord cannot use."""
    secret = "pw" + uuid.uuid4().hex
    for url in (
        "postgresql://mentord_app:%s@[::1/mentord" % secret,
        "postgresql://mentord_app:%s@127.0.0.1:1/mentord" % secret,
        "host=127.0.0.1 port=1 dbname=mentord user=mentord_app password=%s" % secret,
    ):
        rc, out = run_mentord(["--db", url] + serve_args(os.path.join(scratch_dir, "data")))
        assert_refused_start(rc, out, "unusable --db with a password", "database")
        assert secret not in out, "the password was printed:\n" + out
