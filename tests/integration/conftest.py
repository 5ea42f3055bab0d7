"""pytest fixtures for the mentord integration tests.

Fixtures:
  server          one initialized, running mentord per test module (org
                  "acme" with admin admin@acme.test); tests that share it
                  create their own users with unique emails.
  server_factory  make extra servers inside one test (own dir, own port);
                  call it as server_factory(port=None, start=True).
  admin           a fresh mentorctl client of `server` logged in as admin.
  pb              the Python classes generated from proto/mentor.proto.
  raw             a function (port=None, ca=None, host="127.0.0.1", timeout=30)
                  returning a harness.RawConn (TLS, Hello not yet sent) to
                  `server`; all are closed after the test.
  scratch_dir     a private temporary directory.

The classes behind them (Server, Client, Person, RawConn, and PgCluster for
an external PostgreSQL) are in harness.py.

Every server is stopped with SIGTERM after use and must exit 0; anything it
left running is killed and the test run fails.
"""

import atexit
import tempfile
import shutil

import pytest

import harness

atexit.register(harness.cleanup_all)


def pytest_sessionfinish(session, exitstatus):
    harness.cleanup_all()


@pytest.fixture(scope="module")
def server():
    srv = harness.Server.create()
    try:
        yield srv
    finally:
        srv.destroy()


@pytest.fixture
def server_factory():
    made = []

    def make(port=None, start=True, **kw):
        srv = harness.Server.create(port=port, start=start, **kw)
        made.append(srv)
        return srv

    yield make
    errors = []
    for srv in reversed(made):
        try:
            srv.destroy()
        except AssertionError as e:
            errors.append(str(e))
    if errors:
        raise harness.HarnessError("\n".join(errors))


@pytest.fixture
def admin(server):
    return server.login_admin()


@pytest.fixture(scope="session")
def pb():
    out = tempfile.mkdtemp(prefix="mentord-proto-")
    try:
        yield harness.load_proto_module(out)
    finally:
        shutil.rmtree(out, ignore_errors=True)


@pytest.fixture
def raw(server, pb):
    conns = []

    def connect(port=None, ca=None, host="127.0.0.1", timeout=30):
        c = harness.RawConn(pb, port or server.port, ca or server.ca_path, host=host, timeout=timeout)
        conns.append(c)
        return c

    yield connect
    for c in conns:
        c.close()


@pytest.fixture
def scratch_dir():
    """A private temporary directory removed after the test."""
    d = tempfile.mkdtemp(prefix="mentord-scratch-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def pytest_report_header(config):
    return "mentord: %s\nmentorctl: %s" % (harness.MENTORD_BIN, harness.MENTORCTL_BIN)
