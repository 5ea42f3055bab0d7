"""The monitoring listener (--metrics-listen): GET /metrics in the
Prometheus text format, with counters that move with the requests served;
GET /healthz follows the database; anything else gets a clear status and
the connection is closed; it is plain HTTP meant for a local address."""

import socket
import time
import urllib.error
import urllib.request

import harness
from test_database import cluster, external  # noqa: F401 (fixtures)


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def raw(port, data):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return out.decode(errors="replace")
            out += chunk


def samples(text):
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    return values


def wait_healthy(mport, timeout=20):
    """The pool connects in the background after mentord starts listening."""
    deadline = time.monotonic() + timeout
    while get(mport, "/healthz")[0] != 200:
        assert time.monotonic() < deadline, "healthz not OK %ds after start" % timeout
        time.sleep(0.1)


def start(server_factory):
    mport = harness.free_port()
    srv = server_factory(start=False)
    srv.start(extra_args=["--metrics-listen", "127.0.0.1:%d" % mport])
    wait_healthy(mport)
    return srv, mport


def test_metrics_and_health(server_factory):
    srv, mport = start(server_factory)
    status, ctype, body = get(mport, "/metrics")
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    before = samples(body)
    assert before["mentord_up"] == 1 and before["mentord_db_pool_up"] >= 1
    assert "# TYPE mentord_requests_total counter" in body
    admin = srv.login_admin()
    for _ in range(3):
        admin.ok("whoami")
    after = samples(get(mport, "/metrics")[2])
    key = 'mentord_requests_total{kind="whoami"}'
    assert after[key] >= before[key] + 3
    assert after['mentord_db_transactions_total{result="done"}'] > \
        before['mentord_db_transactions_total{result="done"}']
    assert get(mport, "/healthz")[:1] == (200,)


def test_bad_requests_are_answered_and_closed(server_factory):
    srv, mport = start(server_factory)
    assert get(mport, "/nothing")[0] == 404
    assert raw(mport, b"POST /metrics HTTP/1.1\r\n\r\n").startswith("HTTP/1.1 405")
    assert raw(mport, b"nonsense\r\n\r\n").startswith("HTTP/1.1 400")
    big = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * 8000 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", mport), timeout=10) as s:
        try:
            s.sendall(big)
        except OSError:
            pass
        assert s.recv(4096).startswith(b"HTTP/1.1 431")
    # A client that never finishes its request is dropped.
    with socket.create_connection(("127.0.0.1", mport), timeout=15) as s:
        s.sendall(b"GET /metr")
        start_t = time.monotonic()
        assert s.recv(16) == b""
        assert time.monotonic() - start_t < 10
    # The protocol listener is unaffected.
    assert srv.login_admin().whoami()["user"]["email"] == harness.ADMIN_EMAIL


def test_health_follows_the_database(cluster, external):  # noqa: F811
    mport = harness.free_port()
    external.stop()
    external.start(extra_args=["--metrics-listen", "127.0.0.1:%d" % mport])
    wait_healthy(mport)
    cluster.stop(mode="immediate")
    deadline = time.monotonic() + 15
    while get(mport, "/healthz")[0] != 503:
        assert time.monotonic() < deadline, "healthz still OK with the database down"
        time.sleep(0.2)
    assert samples(get(mport, "/metrics")[2])["mentord_db_pool_up"] == 0
    cluster.start()
    deadline = time.monotonic() + 15
    while get(mport, "/healthz")[0] != 200:
        assert time.monotonic() < deadline, "healthz not back after the database returned"
        time.sleep(0.2)
