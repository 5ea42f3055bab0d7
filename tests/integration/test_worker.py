"""The background worker (server/worker.c) on real PostgreSQL clusters: the
recalculation queue, its timing and its safety across instances, and live
pushes of inbox rows.

Every test makes its own throwaway cluster (harness.PgCluster, so the test
can look at and lock the tables as their owner) and its own mentord
instances on it, talking the raw protocol.

Covered:
  - a change is recalculated within moments of the recalculation delay, and
    the new proposal's notification is pushed to every connection of the
    user (and to nobody else);
  - a burst of 20 profile edits makes one run (debounce);
  - the worker's database sessions killed by the server
    (pg_terminate_backend) come back by themselves and still recalculate
    and push (with the poll interval at an hour, so only LISTEN can wake
    them);
  - mentord killed (-9) in the middle of a run: nothing half-written, and
    another instance takes the program over when the claim's lease runs out,
    not before;
  - two instances on one database: runs of a program never overlap, none
    fails, and a program locked by another session is left alone and run
    after its lease;
  - SIGTERM in the middle of a run: mentord exits 0 and hands the program
    back to the queue, run at the next start;
  - the settings (--worker, --recalc-delay, --worker-poll, --worker-lease):
    defaults, sources, bad values; --worker off runs nothing, while the
    pool's sessions still queue with the configured delay.
"""

import os
import re
import signal
import socket
import subprocess
import time

import pytest

import harness
import test_programs as tp

APP_ROLE_SQL = "CREATE ROLE mentord_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE"
# How long a background run may take to show up after it is due.
RECALC_WAIT = 20
SKILLS = ["go", "rust", "python", "sql", "kubernetes"]


# ---------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def cluster():
    c = harness.PgCluster.create()
    try:
        c.psql(APP_ROLE_SQL)
        yield c
    finally:
        c.destroy()


@pytest.fixture
def instances(cluster):
    """start(*flags, init=False) runs a mentord on `cluster`; the first one
    initializes the database. All are stopped (and must stop cleanly unless
    the test killed them) at the end."""
    made = []

    def start(*extra, init=None):
        srv = harness.Server(db_args=["--db", cluster.conninfo("mentord_app"),
                                      "--db-owner", cluster.conninfo(cluster.owner)])
        made.append(srv)
        if init if init is not None else len(made) == 1:
            srv.init()
        srv.start(extra_args=[str(a) for a in extra])
        return srv

    yield start
    errors = []
    for srv in reversed(made):
        try:
            srv.destroy()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise harness.HarnessError("\n".join(errors))


def psql_async(cluster, sql):
    """Runs SQL as the owner in the background (to hold a lock); wait() it."""
    return subprocess.Popen(
        [harness._pg_program(cluster.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
         "-h", cluster.socket_dir, "-p", str(cluster.port), "-U", cluster.owner, "-d", "mentord",
         "-c", sql],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def profile(pb, offered=(), wanted=()):
    return pb.Profile(skills_offered=[pb.Skill(name=n, level=4) for n in offered],
                      skills_wanted=[pb.Skill(name=n, level=3) for n in wanted],
                      languages=["en"], capacity=2)


def matching_program(world, pb, mentors=2, mentees=2):
    """A program in MATCHING with a few people enrolled with profiles."""
    prog = world.program(state="ENROLLING")
    ms, es = [], []
    for i in range(mentors):
        u = world.user(name="Mentor %d" % i)
        tp.enroll(u, prog.id, "MENTOR", profile=profile(pb, offered=SKILLS[i:i + 2]))
        ms.append(u)
    for i in range(mentees):
        u = world.user(name="Mentee %d" % i)
        tp.enroll(u, prog.id, "MENTEE", profile=profile(pb, wanted=SKILLS[i:i + 1]))
        es.append(u)
    tp.transition(world.admin, prog.id, "MATCHING")
    return prog, ms, es


def runs(cluster, program):
    """The program's runs: dicts in id order."""
    rows = cluster.rows(
        "SELECT id, reason, status, proposals, extract(epoch FROM started_at), duration_ms, error "
        "FROM match_runs WHERE program_id = %d ORDER BY id" % program)
    return [dict(id=int(r[0]), reason=r[1], status=r[2], proposals=int(r[3]),
                 started=float(r[4]), ms=int(r[5]), error=r[6]) for r in rows]


def queued(cluster, program):
    return cluster.rows("SELECT version, lease_until IS NOT NULL, extract(epoch FROM lease_until) "
                        "FROM match_queue WHERE program_id = %d" % program)


def wait_for(what, predicate, timeout=RECALC_WAIT, interval=0.1):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def wait_runs(cluster, program, n, timeout=RECALC_WAIT):
    """Waits until the program has at least n runs and returns them."""
    return wait_for("%d run(s) of program %d" % (n, program),
                    lambda: (lambda r: r if len(r) >= n else None)(runs(cluster, program)),
                    timeout)


def settle(cluster, program, timeout=RECALC_WAIT):
    wait_for("program %d's queue to empty" % program, lambda: not queued(cluster, program),
             timeout)


def read_pushes(conn, seconds, want=None):
    """The Pushes that arrive on a raw connection within `seconds` (or until
    `want` of them came)."""
    got = list(conn.pushes)
    conn.pushes.clear()
    deadline = time.monotonic() + seconds
    try:
        while want is None or len(got) < want:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            conn.sock.settimeout(left)
            m = conn.recv_message()
            if m.WhichOneof("msg") == "push":
                got.append(m.push)
    except (socket.timeout, TimeoutError):
        pass
    finally:
        conn.sock.settimeout(30)
    return got


def edit(pb, person, program, skill):
    tp.profile_update(person, program, pb.Profile(skills_wanted=[pb.Skill(name=skill, level=2)]),
                      ["skills_wanted"])


def log_events(srv, event):
    return [line for line in srv.log_text().splitlines() if "event=%s " % event in line + " "]


# ---------------------------------------------------------------------------
# Tests


def test_change_runs_soon_and_pushes_to_every_connection(cluster, instances, pb):
    srv = instances("--recalc-delay", 300)
    world = tp.World(srv, pb)
    try:
        prog, mentors, mentees = matching_program(world, pb)
        first = wait_runs(cluster, prog.id, 1)
        assert first[0]["reason"] == "change: rules" and first[0]["status"] == "done", first
        settle(cluster, prog.id)
        # A newcomer logged in twice, enrolled by the admin: the run proposes
        # them a mentor, and both their connections hear of it at once.
        newbie = world.user(name="New Mentee")
        second_conn = world.login_as(newbie)
        before = time.monotonic()
        tp.enroll(world.admin, prog.id, "MENTEE", user=newbie,
                  profile=profile(pb, wanted=["go"]))
        got1 = read_pushes(newbie.conn, 8, want=1)
        got2 = read_pushes(second_conn, 1, want=1)
        assert got1 and got2, "no push on one of the connections: %s / %s" % (got1, got2)
        assert time.monotonic() - before < 8
        rows = cluster.rows("SELECT id, title, program_id, extract(epoch FROM created_at)::bigint "
                            "FROM notifications WHERE user_id = %d" % newbie.id)
        assert len(rows) == 1, rows
        nid, title, program_id, created = int(rows[0][0]), rows[0][1], int(rows[0][2]), int(rows[0][3])
        for got in (got1, got2):
            assert [p.notification_id for p in got] == [nid], got
            p = got[0]
            assert p.kind == "notification" and p.title == title and p.body
            assert p.program_id == program_id == prog.id and p.at == created
        last = runs(cluster, prog.id)[-1]
        assert last["reason"] == "change: enrollment" and last["status"] == "done", last
        # Nobody else got the newcomer's notification.
        for other in mentees + [world.admin]:
            assert nid not in [p.notification_id for p in read_pushes(other.conn, 0.2)]
    finally:
        world.close()


def test_burst_of_edits_makes_one_run(cluster, instances, pb):
    delay_ms = 3000
    srv = instances("--recalc-delay", delay_ms)
    world = tp.World(srv, pb)
    try:
        prog, mentors, mentees = matching_program(world, pb)
        wait_runs(cluster, prog.id, 1)
        settle(cluster, prog.id)
        n0 = len(runs(cluster, prog.id))
        start = time.monotonic()
        for i in range(20):
            edit(pb, mentees[i % 2], prog.id, SKILLS[i % len(SKILLS)])
        burst = time.monotonic() - start
        assert burst < delay_ms / 1000.0, "the burst took %.1fs, longer than the delay" % burst
        # Nothing runs before the delay has passed since the last edit.
        time.sleep(max(0.0, delay_ms / 1000.0 - burst - 1.0))
        assert len(runs(cluster, prog.id)) == n0
        after = wait_runs(cluster, prog.id, n0 + 1)
        settle(cluster, prog.id)
        time.sleep(1)
        after = runs(cluster, prog.id)
        assert len(after) == n0 + 1, after
        assert after[-1]["reason"] == "change: profile" and after[-1]["status"] == "done"
    finally:
        world.close()


def test_worker_sessions_come_back_after_being_killed(cluster, instances, pb):
    # With an hour between polls, only a LISTEN that works again can wake it.
    srv = instances("--recalc-delay", 300, "--worker-poll", 3600)
    world = tp.World(srv, pb)
    try:
        prog, mentors, mentees = matching_program(world, pb)
        wait_runs(cluster, prog.id, 1)
        settle(cluster, prog.id)
        n0 = len(runs(cluster, prog.id))
        connected = len(log_events(srv, "worker_connected"))
        killed = cluster.rows("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE application_name LIKE 'mentord worker%'")
        assert killed == [["t"], ["t"]], killed
        wait_for("the worker's sessions to come back",
                 lambda: len(log_events(srv, "worker_connected")) >= connected + 2)
        assert len(log_events(srv, "worker_db_lost")) >= 1
        back = cluster.rows("SELECT count(*) FROM pg_stat_activity "
                            "WHERE application_name LIKE 'mentord worker%'")
        assert back == [["2"]], back
        # Recalculation and pushes work as before.
        edit(pb, mentees[0], prog.id, "sql")
        wait_runs(cluster, prog.id, n0 + 1)
        newbie = world.user(name="Late Mentee")
        tp.enroll(world.admin, prog.id, "MENTEE", user=newbie, profile=profile(pb, wanted=["go"]))
        got = read_pushes(newbie.conn, 8, want=1)
        assert [p.kind for p in got] == ["notification"], got
    finally:
        world.close()


def test_crash_mid_run_lease_taken_over(cluster, instances, pb):
    flags = ("--recalc-delay", 200, "--worker-lease", 6, "--worker-poll", 1)
    a = instances(*flags)
    world = tp.World(a, pb)
    blocker = None
    try:
        prog, mentors, mentees = matching_program(world, pb)
        wait_runs(cluster, prog.id, 1)
        settle(cluster, prog.id)
        n0 = len(runs(cluster, prog.id))
        # Writing a run needs match_runs: hold it so the run stops there.
        blocker = psql_async(cluster, "BEGIN; LOCK TABLE match_runs IN SHARE MODE; "
                                      "SELECT pg_sleep(4); COMMIT")
        time.sleep(0.5)
        edit(pb, mentees[1], prog.id, "rust")
        claim = wait_for("a claim", lambda: [q for q in queued(cluster, prog.id) if q[1] == "t"])
        lease_until = float(claim[0][2])
        world.close()
        a.stop(sig=signal.SIGKILL, check=False)
        b = instances(*flags)
        after = wait_runs(cluster, prog.id, n0 + 1, timeout=30)
        assert blocker.wait(timeout=30) == 0, blocker.stderr.read()
        time.sleep(1)
        after = runs(cluster, prog.id)
        # The killed instance's run never committed; the other one ran the
        # program once its lease was over.
        assert len(after) == n0 + 1, after
        assert after[-1]["reason"] == "change: profile" and after[-1]["status"] == "done"
        assert after[-1]["started"] >= lease_until - 0.01, (after[-1], lease_until)
        assert any("program=%d" % prog.id in line for line in log_events(b, "match_run"))
    finally:
        world.close()
        if blocker is not None and blocker.poll() is None:
            blocker.wait(timeout=30)


def test_two_instances_run_a_program_one_at_a_time(cluster, instances, pb):
    flags = ("--recalc-delay", 100, "--worker-lease", 5, "--worker-poll", 1)
    a = instances(*flags)
    b = instances(*flags)
    world = tp.World(a, pb)
    holder = None
    try:
        p1, _, e1 = matching_program(world, pb)
        p2, _, e2 = matching_program(world, pb)
        for p in (p1, p2):
            wait_runs(cluster, p.id, 1)
        # A stream of edits to both programs, both instances listening.
        end = time.monotonic() + 4
        i = 0
        while time.monotonic() < end:
            edit(pb, (e1, e2)[i % 2][i % 2], (p1, p2)[i % 2].id, SKILLS[i % len(SKILLS)])
            time.sleep(0.05 + (i % 7) * 0.03)
            i += 1
        for p in (p1, p2):
            settle(cluster, p.id)
            rs = runs(cluster, p.id)
            assert len(rs) >= 2 and all(r["status"] == "done" for r in rs), rs
            for x, y in zip(rs, rs[1:]):
                assert y["started"] >= x["started"] + x["ms"] / 1000.0 - 0.001, (x, y)
        logged = len(log_events(a, "match_run")) + len(log_events(b, "match_run"))
        assert logged == len(runs(cluster, p1.id)) + len(runs(cluster, p2.id))
        # Another session holds the program's lock: whoever claims it leaves
        # it, and it runs once the lock is gone and the lease is over.
        n0 = len(runs(cluster, p1.id))
        holder = psql_async(cluster, "SELECT pg_advisory_lock(%d); SELECT pg_sleep(5)" % p1.id)
        wait_for("the lock", lambda: cluster.rows(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %d "
            "AND granted" % p1.id) == [["1"]])
        edit(pb, e1[0], p1.id, "python")
        wait_for("a busy claim",
                 lambda: log_events(a, "match_run_busy") + log_events(b, "match_run_busy"))
        assert len(runs(cluster, p1.id)) == n0
        assert holder.wait(timeout=30) == 0, holder.stderr.read()
        released = time.time()
        rs = wait_runs(cluster, p1.id, n0 + 1, timeout=30)
        assert rs[-1]["status"] == "done" and rs[-1]["started"] >= released - 1, rs[-1]
    finally:
        world.close()
        if holder is not None and holder.poll() is None:
            holder.wait(timeout=30)


def test_sigterm_mid_run_hands_the_program_back(cluster, instances, pb):
    a = instances("--recalc-delay", 1500, "--worker-poll", 1)
    world = tp.World(a, pb)
    blocker = None
    try:
        prog, mentors, mentees = matching_program(world, pb)
        wait_runs(cluster, prog.id, 1)
        settle(cluster, prog.id)
        n0 = len(runs(cluster, prog.id))
        edit(pb, mentees[0], prog.id, "kubernetes")
        # Reading the participants waits behind this lock: the run is caught
        # loading when mentord is told to stop.
        blocker = psql_async(cluster, "BEGIN; LOCK TABLE participants IN ACCESS EXCLUSIVE MODE; "
                                      "SELECT pg_sleep(4); COMMIT")
        wait_for("a claim", lambda: [q for q in queued(cluster, prog.id) if q[1] == "t"])
        world.close()
        a.stop()  # must exit 0
        assert blocker.wait(timeout=30) == 0, blocker.stderr.read()
        assert log_events(a, "match_run_abandoned"), a.log_tail()
        assert len(runs(cluster, prog.id)) == n0
        q = queued(cluster, prog.id)
        assert len(q) == 1 and q[0][1] == "f", q
        # Due again: the next start runs it.
        a.start(extra_args=["--recalc-delay", "1500", "--worker-poll", "1"])
        rs = wait_runs(cluster, prog.id, n0 + 1)
        assert rs[-1]["reason"] == "change: profile" and rs[-1]["status"] == "done", rs[-1]
    finally:
        world.close()
        if blocker is not None and blocker.poll() is None:
            blocker.wait(timeout=30)


def check_config(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("MENTORD_")}
    e.update(env or {})
    cp = subprocess.run([harness.MENTORD_BIN, "--data-dir", "/nonexistent", "--check-config",
                         *args], capture_output=True, text=True, env=e, timeout=30)
    out = {}
    for line in cp.stdout.splitlines():
        m = re.match(r"^(\S+)\s*=\s*(.*?)\s*\((\w+)\)$", line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
    return cp, out


def test_settings():
    harness.check_binaries()
    cp, s = check_config()
    assert cp.returncode == 0, cp.stderr
    assert s["worker"] == ("on", "default") and s["recalc-delay"] == ("2000", "default")
    assert s["worker-poll"] == ("10", "default") and s["worker-lease"] == ("300", "default")
    cp, s = check_config("--worker", "off", "--recalc-delay", "0", "--worker-poll", "3600",
                         env={"MENTORD_WORKER_LEASE": "30"})
    assert cp.returncode == 0, cp.stderr
    assert s["worker"] == ("off", "flag") and s["recalc-delay"] == ("0", "flag")
    assert s["worker-poll"] == ("3600", "flag") and s["worker-lease"] == ("30", "environment")
    for bad, says in ((["--worker", "maybe"], "on or off"),
                      (["--recalc-delay", "600001"], "0 to 600000"),
                      (["--worker-poll", "0"], "1 to 3600")):
        cp, _ = check_config(*bad)
        assert cp.returncode == 2 and says in cp.stderr, (bad, cp.stderr)
    help_text = subprocess.run([harness.MENTORD_BIN, "--help"], capture_output=True, text=True,
                               timeout=30).stdout
    for flag in ("--worker ", "--recalc-delay", "--worker-poll", "--worker-lease"):
        assert flag in help_text


def test_worker_off_runs_nothing_but_changes_are_queued(cluster, instances, pb):
    srv = instances("--worker", "off", "--recalc-delay", 700)
    world = tp.World(srv, pb)
    try:
        prog, mentors, mentees = matching_program(world, pb)
        # The pool's sessions queue the program with the configured delay.
        rows = cluster.rows("SELECT round(extract(epoch FROM due_at - first_at) * 1000) "
                            "FROM match_queue WHERE program_id = %d" % prog.id)
        assert rows == [["700"]], rows
        time.sleep(2)
        assert runs(cluster, prog.id) == []
        assert not log_events(srv, "worker_started")
        assert cluster.rows("SELECT count(*) FROM pg_stat_activity "
                            "WHERE application_name LIKE 'mentord worker%'") == [["0"]]
    finally:
        world.close()
