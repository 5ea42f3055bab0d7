"""`mentorctl admin status`: the operator sees this instance's counters,
which move with the requests it serves; others are refused; it answers
from memory, so a connection already logged in gets it while the database
is away (and sees the pool down)."""

import time

from test_database import cluster, external, logged_in  # noqa: F401 (fixtures)


def test_status_counts_requests(server, admin):
    first = admin.ok("admin", "status")
    assert first["version"] and first["uptime_seconds"] >= 0
    assert first["db"]["pool_size"] >= 1 and first["db"]["up"] >= 1
    for _ in range(3):
        admin.ok("whoami")
    second = admin.ok("admin", "status")
    assert second["requests"] > first["requests"]
    by_kind = second["requests_by_kind"]
    assert by_kind["whoami"] >= first["requests_by_kind"].get("whoami", 0) + 3
    assert by_kind["admin_status"] >= 2
    cp = admin.ctl("admin", "status")
    assert cp.returncode == 0 and "database pool" in cp.stdout, cp.stdout


def test_only_the_operator(server, admin):
    other = server.make_user(admin, role="admin")
    other.client.fail("admin", "status", code="PERMISSION_DENIED")


def test_status_while_the_database_is_down(pb, cluster, external):  # noqa: F811
    """A connection logged in before the outage still gets the status."""
    c = logged_in(pb, external)
    try:
        r = c.call("admin_status", pb.AdminStatus())
        assert r.status.code == pb.OK and r.admin_status.db.up >= 1
        cp = cluster.stop(mode="immediate")
        assert cp is not None and cp.returncode == 0
        deadline = time.monotonic() + 10
        while True:
            r = c.call("admin_status", pb.AdminStatus())
            assert r.status.code == pb.OK, r.status
            if r.admin_status.db.up == 0 or time.monotonic() > deadline:
                break
            c.call("whoami")  # lets the pool notice
            time.sleep(0.2)
        assert r.admin_status.db.up == 0, r.admin_status.db
    finally:
        c.close()
        cluster.start()
