"""The inbox end to end, through mentorctl: the notifications a match run
leaves for the people it proposes (tests/fixtures/match-participants.csv,
imported as in test_match.py) are listed by `mentorctl inbox` (text and
JSON, --unread, paging with --limit and --before) and marked read with
`inbox read ID...` and `inbox read --all`. A user sees and marks only
their own: another user's ids mark nothing, another organization sees
none. Bad input is refused with exit status 1 and a message naming the
field."""

import pytest

import harness
from test_match import Community, psql
from test_programs import World


@pytest.fixture(scope="module")
def community(server):
    return Community(server)


@pytest.fixture(scope="module")
def world(server, pb):
    w = World(server, pb)
    try:
        yield w
    finally:
        w.close()


@pytest.fixture(scope="module")
def proposed(server, community):
    """A program after one match run, and two people it proposed (each with
    a match.proposed notification)."""
    pid = community.new_program("inbox")
    community.admin.ok("match", "run", "--program", pid)
    rows = psql(server, """
        SELECT user_id, count(*) FROM notifications
         WHERE program_id = %d AND kind = 'match.proposed'
         GROUP BY user_id ORDER BY user_id LIMIT 2""" % pid)
    assert len(rows) == 2, rows
    return pid, [int(r[0]) for r in rows]


def inbox(person, *args):
    return person.client.ok("inbox", *args)


def test_inbox_lists_marks_and_pages(server, community, proposed):
    pid, (uid, other_uid) = proposed
    me = community.person(uid)
    other = community.person(other_uid)

    doc = inbox(me)
    notes = doc["notifications"]
    mine = [n for n in notes if n["program_id"] == pid and n["kind"] == "match.proposed"]
    assert mine, doc
    n = mine[0]
    assert n["title"] and isinstance(n["body"], str) and n["read_at"] is None
    assert harness.parse_time(n["created_at"])
    ids = [x["id"] for x in notes]
    assert ids == sorted(ids, reverse=True), "newest first: %s" % ids
    unread = doc["unread"]
    assert unread == sum(1 for x in notes if x["read_at"] is None) and unread >= 1
    db = psql(server, "SELECT count(*) FROM notifications WHERE user_id = %d AND read_at IS NULL"
              % uid)
    assert int(db[0][0]) == unread

    # Text output: the table and the unread line.
    cp = me.client.ctl("inbox")
    assert cp.returncode == 0, harness.describe(cp, "inbox failed")
    lines = cp.stdout.splitlines()
    assert lines[0].split() == ["ID", "TIME", "KIND", "PROGRAM", "TITLE"], cp.stdout
    assert any(str(n["id"]) in l and "match.proposed" in l and str(pid) in l for l in lines[1:])
    assert lines[-1] == "%d unread" % unread, cp.stdout

    # Reading another user's notification marks nothing, for either of them.
    theirs = inbox(other)["notifications"][0]
    assert me.client.ok("inbox", "read", theirs["id"]) == {"marked": 0}
    assert inbox(other)["notifications"][0]["read_at"] is None

    # Marking one of mine: marked 1, the count drops, --unread leaves it out.
    assert me.client.ok("inbox", "read", n["id"]) == {"marked": 1}
    assert me.client.ok("inbox", "read", n["id"]) == {"marked": 0}
    doc = inbox(me)
    assert doc["unread"] == unread - 1
    assert [x for x in doc["notifications"] if x["id"] == n["id"]][0]["read_at"] is not None
    only = inbox(me, "--unread")
    assert n["id"] not in [x["id"] for x in only["notifications"]]
    assert all(x["read_at"] is None for x in only["notifications"])
    assert len(only["notifications"]) == unread - 1 == only["unread"]
    cp = me.client.ctl("inbox", "read", n["id"])
    assert cp.returncode == 0 and cp.stdout.strip() == "marked 0", cp.stdout

    # Paging: --limit N, then --before the last id shown.
    all_ids = [x["id"] for x in inbox(me, "--limit", "500")["notifications"]]
    pages, before = [], None
    while True:
        args = ["--limit", "1"] + (["--before", str(before)] if before else [])
        page = [x["id"] for x in inbox(me, *args)["notifications"]]
        assert len(page) <= 1
        if not page:
            break
        pages += page
        before = page[-1]
    assert pages == all_ids

    # --all marks the rest; the other user's stay unread.
    left = inbox(me)["unread"]
    assert me.client.ok("inbox", "read", "--all") == {"marked": left}
    assert inbox(me)["unread"] == 0 and inbox(me, "--unread")["notifications"] == []
    assert inbox(other)["unread"] >= 1
    cp = me.client.ctl("inbox", "read", "--all")
    assert cp.returncode == 0 and cp.stdout.strip() == "marked 0", cp.stdout


def test_inbox_is_per_organization(server, community, proposed, world):
    _, (_, uid) = proposed
    unread_sql = "SELECT count(*) FROM notifications WHERE user_id = %d AND read_at IS NULL" % uid
    ids = [int(r[0]) for r in psql(server, "SELECT id FROM notifications WHERE user_id = %d"
                                   % uid)]
    before = int(psql(server, unread_sql)[0][0])
    assert ids and before >= 1
    b = world.org_b()
    rep = b.ok("inbox_list", limit=500)
    assert list(rep.notifications) == [] and rep.unread == 0
    assert b.ok("inbox_read", ids=ids).marked == 0
    assert b.ok("inbox_read", all=True).marked == 0
    assert int(psql(server, unread_sql)[0][0]) == before


def test_inbox_bad_input(server, community, proposed):
    _, (uid, _) = proposed
    me = community.person(uid)
    err = me.client.fail("inbox", "read", code="INVALID_ARGUMENT")
    assert err.get("field") == "inbox_read.ids", err
    err = me.client.fail("inbox", "--limit", "501", code="INVALID_ARGUMENT")
    assert err.get("field") == "inbox_list.limit", err
    cp = me.client.ctl("inbox", "--limit", "501")
    assert cp.returncode == 1 and "limit" in cp.stderr, cp.stderr
    cp = me.client.ctl("inbox", "read")
    assert cp.returncode == 1 and "inbox_read.ids" in cp.stderr, cp.stderr
    # Command-line mistakes are usage errors (exit 2).
    for args in (["inbox", "unread"], ["inbox", "read", "x"], ["inbox", "read", "--unread"],
                 ["inbox", "--all"]):
        cp = me.client.ctl(*args)
        assert cp.returncode == 2 and cp.stderr, (args, cp.stderr)
