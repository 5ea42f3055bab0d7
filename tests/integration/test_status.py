"""`mentorctl admin status`: the operator sees this instance's counters,
which move with the requests it serves; others are refused; it answers
from memory, so it works while the database is away."""

import harness
from test_database import cluster, external  # noqa: F401 (fixtures)


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


def test_status_while_the_database_is_down(cluster, external):  # noqa: F811
    admin = external.login_admin()
    assert admin.ok("admin", "status")["db"]["up"] >= 1
    cluster.stop(mode="immediate")
    doc = admin.ok("admin", "status")
    assert doc["db"]["up"] == 0 or doc["db"]["failed"] >= 0
    cluster.start()
