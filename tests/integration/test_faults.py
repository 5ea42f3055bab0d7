"""Nothing acknowledged is lost: writers keep sending while PostgreSQL is
stopped with `pg_ctl stop -m immediate` and started again, or while mentord
itself is killed with SIGKILL and restarted. Every write the server
answered OK must be in the database afterwards; a write may fail only with
UNAVAILABLE (database away) or by the connection closing (server killed)."""

import signal
import threading
import time

import harness
from harness import ORG
from test_database import cluster, external, logged_in  # noqa: F401 (fixtures)

WRITERS = 3


class Writers:
    """Threads inviting users with unique e-mails, each on its own
    connection, recording which invitations were acknowledged."""

    def __init__(self, pb, srv):
        self.pb = pb
        self.srv = srv
        self.acked = set()
        self.problems = []
        self.unavailable = 0
        self.closed = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(WRITERS)]

    def run(self, n):
        pb = self.pb
        conn = None
        i = 0
        while not self.stop.is_set():
            if conn is None:
                try:
                    conn = logged_in(pb, self.srv, timeout=15)
                except Exception:
                    time.sleep(0.2)  # the server or its database is away
                    continue
            i += 1
            email = "w%d-%d-%s@%s.test" % (n, i, harness.unique("x"), ORG)
            try:
                r = conn.call("user_invite", pb.UserInvite(email=email, display_name="Writer",
                                                           role=pb.MEMBER))
            except (harness.ConnectionClosed, OSError):
                with self.lock:
                    self.closed += 1
                conn.close()
                conn = None
                continue
            with self.lock:
                if r.status.code == pb.OK:
                    self.acked.add(email)
                elif r.status.code == pb.UNAVAILABLE:
                    self.unavailable += 1
                elif r.status.code == pb.UNAUTHENTICATED:
                    conn.close()  # the session check failed in the outage: log in again
                    conn = None
                else:
                    self.problems.append("%s: %s" % (pb.Code.Name(r.status.code),
                                                     r.status.message))
            if r.status.code != pb.OK:
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads), "a writer hung"

    def count(self):
        with self.lock:
            return len(self.acked)


def stored_emails(pb, srv):
    conn = logged_in(pb, srv)
    try:
        r = conn.call("user_list", pb.UserList(include_inactive=True))
        assert r.status.code == pb.OK, r.status
        return {u.email for u in r.user_list.users}
    finally:
        conn.close()


def wait_for_more(writers, at_least, seconds):
    deadline = time.monotonic() + seconds
    while writers.count() < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
    assert writers.count() >= at_least, "writers stalled at %d" % writers.count()


def test_acknowledged_writes_survive_a_database_crash(pb, cluster, external):  # noqa: F811
    with Writers(pb, external) as w:
        wait_for_more(w, 20, 20)
        cp = cluster.stop(mode="immediate")
        assert cp is not None and cp.returncode == 0
        time.sleep(1.5)
        before_restart = w.count()
        cluster.start()
        wait_for_more(w, before_restart + 20, 30)
    assert not w.problems, w.problems[:10]
    assert w.unavailable > 0, "no write was refused while the database was down"
    missing = w.acked - stored_emails(pb, external)
    assert not missing, "acknowledged but not stored: %s" % sorted(missing)[:10]
    assert external.running()


def test_acknowledged_writes_survive_killing_mentord(pb, cluster, external):  # noqa: F811
    with Writers(pb, external) as w:
        wait_for_more(w, 20, 20)
        port = external.port
        external.stop(sig=signal.SIGKILL, check=False)
        killed_at = w.count()
        time.sleep(0.5)
        external.start(port=port)
        wait_for_more(w, killed_at + 20, 30)
    assert not w.problems, w.problems[:10]
    assert w.closed > 0, "no connection was cut by the kill"
    missing = w.acked - stored_emails(pb, external)
    assert not missing, "acknowledged but not stored: %s" % sorted(missing)[:10]
