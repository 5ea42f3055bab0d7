"""Integration test harness: runs a real mentord with its own embedded
PostgreSQL (or, through PgCluster, on a throwaway external PostgreSQL) and
drives it with the real mentorctl or with a raw protocol client.

Every server lives in its own temporary directory under /tmp with its own TCP
port, so several test files can run at once. A server is always stopped with
SIGTERM and must exit 0 (that is the clean-shutdown contract); whatever is
left running after that (mentord itself, or the PostgreSQL it started) is
killed, reported as a failure, and the directory is removed. mentord is also
started with a parent-death signal, so a test runner killed by a timeout does
not leave servers behind.
"""

import contextlib
import ctypes
import glob
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("MENTORD_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BUILD_DIR = os.environ.get("MENTORD_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
MENTORD_BIN = os.environ.get("MENTORD_BIN") or os.path.join(BUILD_DIR, "mentord")
MENTORCTL_BIN = os.environ.get("MENTORCTL_BIN") or os.path.join(BUILD_DIR, "mentorctl")

ORG = "acme"
ORG_NAME = "Acme Corp"
ADMIN_EMAIL = "admin@acme.test"
ADMIN_NAME = "Ada Admin"
ADMIN_PASSWORD = "correct horse battery staple"

START_TIMEOUT = 60
STOP_TIMEOUT = 30
CTL_TIMEOUT = 60

# Markers the sanitizers print; any of them in a child's output fails the test
# even when the exit code happens to be the expected one.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

# Every server started by this process, so that a last-chance cleanup can
# stop them whatever happened to the fixtures.
_live_servers = []


class HarnessError(AssertionError):
    """A failure of the server or client under test seen by the harness."""


def check_binaries():
    """Fail clearly when the programs under test were not built."""
    missing = [p for p in (MENTORD_BIN, MENTORCTL_BIN) if not os.access(p, os.X_OK)]
    if missing:
        raise HarnessError(
            "program under test not found: %s (build first, or set MENTORD_BIN and "
            "MENTORCTL_BIN)" % ", ".join(missing)
        )


def unique(prefix="u"):
    """A short name unlikely to repeat across tests and runs."""
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_time(text):
    """Parse an RFC 3339 timestamp as printed by mentorctl --json."""
    assert isinstance(text, str) and text, "expected an RFC 3339 string, got %r" % (text,)
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", text), (
        "not RFC 3339: %r" % text
    )
    t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert t.tzinfo is not None
    return t


def now_utc():
    return datetime.now(timezone.utc)


def cert_sha256(pem_path):
    """SHA-256 of a PEM certificate's DER form, as lowercase hex."""
    with open(pem_path, "r", encoding="ascii") as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return hashlib.sha256(der).hexdigest()


def _die_with_parent():
    """Runs in the child before exec: deliver SIGTERM to mentord if the test
    process dies, so it can still stop its PostgreSQL."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except Exception:
        pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie has exited already.
    try:
        with open("/proc/%d/stat" % pid, "r") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def child_pids(pid):
    """PIDs of the live processes whose parent is `pid`."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, "r") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def _postmaster_pids(data_dir):
    """PIDs of PostgreSQL servers still running on a cluster inside data_dir,
    found through the postmaster.pid files PostgreSQL writes."""
    pids = []
    for root, dirs, files in os.walk(data_dir):
        if "postmaster.pid" in files:
            try:
                with open(os.path.join(root, "postmaster.pid"), "r") as f:
                    pid = int(f.readline().strip())
            except (OSError, ValueError):
                continue
            if pid > 0 and _pid_alive(pid):
                try:
                    with open("/proc/%d/cmdline" % pid, "rb") as f:
                        cmd = f.read()
                except OSError:
                    cmd = b""
                if b"postgres" in cmd:
                    pids.append(pid)
    return pids


def _check_sanitizers(text, what):
    for marker in SANITIZER_MARKERS:
        if marker in text:
            raise HarnessError("%s reported a sanitizer error:\n%s" % (what, text[-8000:]))


class Client:
    """One mentorctl user: its own HOME, XDG_STATE_HOME (session, known
    servers) and XDG_CONFIG_HOME, so several people can be logged in at once
    against the same server."""

    def __init__(self, server, home, host="127.0.0.1", port=None):
        self.server = server
        self.home = home
        self.host = host
        self._port = port
        self.state_dir = os.path.join(home, "state")
        self.config_dir = os.path.join(home, "config")
        for d in (self.state_dir, self.config_dir):
            os.makedirs(d, exist_ok=True)

    @property
    def port(self):
        return self._port if self._port is not None else self.server.port

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORCTL_")}
        env.update(
            HOME=self.home,
            XDG_STATE_HOME=self.state_dir,
            XDG_CONFIG_HOME=self.config_dir,
            LC_ALL="C.UTF-8",
        )
        if extra:
            env.update(extra)
        return env

    def ctl(self, *args, input=None, env=None, ca=True, json=False, server=True):
        """Run mentorctl. ca=True passes the server's CA, ca=False passes no
        --ca (fingerprint pinning), a string passes that file. Returns the
        CompletedProcess with text stdout/stderr."""
        argv = [MENTORCTL_BIN]
        if server:
            argv += ["--server", "%s:%d" % (self.host, self.port)]
        if ca is True:
            argv += ["--ca", self.server.ca_path]
        elif ca:
            argv += ["--ca", ca]
        if json:
            argv.append("--json")
        argv += [str(a) for a in args]
        try:
            cp = subprocess.run(
                argv,
                input=input if input is not None else "",
                capture_output=True,
                text=True,
                env=self.env(env),
                timeout=CTL_TIMEOUT,
            )
        except subprocess.TimeoutExpired as e:
            raise HarnessError(
                "mentorctl timed out after %ds: %s\nstdout: %s\nstderr: %s"
                % (CTL_TIMEOUT, " ".join(argv), e.stdout, e.stderr)
            )
        _check_sanitizers(cp.stderr, "mentorctl " + " ".join(argv[1:]))
        return cp

    def ok(self, *args, **kw):
        """Run with --json, require exit 0 and return the parsed document."""
        cp = self.ctl(*args, json=True, **kw)
        if cp.returncode != 0:
            raise HarnessError(describe(cp, "expected exit 0"))
        return parse_json(cp)

    def fail(self, *args, code, rc=1, **kw):
        """Run with --json, require exit `rc` and an error of `code`; return
        the error object."""
        cp = self.ctl(*args, json=True, **kw)
        if cp.returncode != rc:
            raise HarnessError(describe(cp, "expected exit %d (%s)" % (rc, code)))
        doc = parse_json(cp)
        err = doc.get("error") if isinstance(doc, dict) else None
        if not isinstance(err, dict) or err.get("code") != code:
            raise HarnessError(describe(cp, "expected error code %s" % code))
        assert isinstance(err.get("message"), str) and err["message"], describe(cp, "no message")
        return err

    def login(self, email, password, org=ORG, **kw):
        cp = self.ctl(
            "login", "--org", org, "--email", email, "--password-stdin", input=password + "\n", **kw
        )
        if cp.returncode != 0:
            raise HarnessError(describe(cp, "login of %s/%s failed" % (org, email)))
        return cp

    def whoami(self):
        return self.ok("whoami")


def describe(cp, why):
    return "%s\ncommand: %s\nexit: %s\nstdout: %s\nstderr: %s" % (
        why,
        " ".join(cp.args) if isinstance(cp.args, list) else cp.args,
        cp.returncode,
        cp.stdout,
        cp.stderr,
    )


def parse_json(cp):
    try:
        return json.loads(cp.stdout)
    except ValueError:
        raise HarnessError(describe(cp, "stdout is not one JSON document"))


class Person:
    """A user created for a test, with a client logged in as them."""

    def __init__(self, client, user, email, password, org=ORG):
        self.client = client
        self.user = user
        self.id = user["id"]
        self.email = email
        self.password = password
        self.org = org


class Server:
    """A mentord instance and its data directory. Create with
    Server.create(); always call destroy() (the fixtures do)."""

    def __init__(self, db_args=()):
        self.root = tempfile.mkdtemp(prefix="mentord-test-")
        # Extra options for both `mentord init` and the server, such as
        # --db/--db-owner for an external PostgreSQL.
        self.db_args = list(db_args)
        # As root, mentord runs PostgreSQL as the postgres user, which must be
        # able to reach the data directory inside this one.
        os.chmod(self.root, 0o755)
        self.data_dir = os.path.join(self.root, "data")
        self.log_path = os.path.join(self.root, "mentord.log")
        self.port = None
        self.proc = None
        self.log_file = None
        self.ca_log_sha256 = None
        self.ca_log_path = None
        self._log_offset = 0
        self.exit_codes = []
        self._clients = 0
        self._default_client = None
        _live_servers.append(self)

    # -- life cycle ------------------------------------------------------

    @classmethod
    def create(cls, port=None, org=ORG, org_name=ORG_NAME, start=True, db_args=()):
        check_binaries()
        srv = cls(db_args=db_args)
        try:
            srv.init(org=org, org_name=org_name)
            if start:
                srv.start(port=port)
        except BaseException:
            srv.destroy(check=False)
            raise
        return srv

    @property
    def ca_path(self):
        return os.path.join(self.data_dir, "tls", "ca.crt")

    def init_argv(self, org=ORG, org_name=ORG_NAME):
        argv = [
            MENTORD_BIN, "init",
            "--data-dir", self.data_dir,
            "--org-slug", org,
            "--org-name", org_name,
            "--admin-email", ADMIN_EMAIL,
            "--admin-name", ADMIN_NAME,
            "--password-stdin",
        ] + self.db_args
        if os.environ.get("MENTORD_TEST_PG_BINDIR"):
            argv += ["--pg-bindir", os.environ["MENTORD_TEST_PG_BINDIR"]]
        return argv

    def run_init(self, org=ORG, org_name=ORG_NAME):
        """Run `mentord init` and return the CompletedProcess."""
        try:
            cp = subprocess.run(
                self.init_argv(org, org_name),
                input=ADMIN_PASSWORD + "\n",
                capture_output=True,
                text=True,
                timeout=180,
                preexec_fn=_die_with_parent,
            )
        except subprocess.TimeoutExpired as e:
            raise HarnessError("mentord init timed out\nstdout: %s\nstderr: %s" % (e.stdout, e.stderr))
        _check_sanitizers(cp.stderr, "mentord init")
        return cp

    def init(self, org=ORG, org_name=ORG_NAME):
        cp = self.run_init(org, org_name)
        if cp.returncode != 0:
            raise HarnessError(describe(cp, "mentord init failed"))
        return cp

    def start(self, port=None, extra_args=()):
        """Start mentord and wait for `event=listening`. Without a port a
        free one is chosen, and another one if that was taken meanwhile."""
        attempts = 1 if port is not None else 5
        for attempt in range(attempts):
            p = port if port is not None else free_port()
            if self._start_once(p, extra_args):
                return
        raise HarnessError("could not find a free port for mentord:\n" + self.log_tail())

    def _start_once(self, port, extra_args):
        assert self.proc is None, "server already running"
        self.port = port
        self._log_offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        self.log_file = open(self.log_path, "ab")
        argv = [
            MENTORD_BIN,
            "--data-dir", self.data_dir,
            "--listen", "127.0.0.1:%d" % port,
            "--log-level", "debug",
        ] + self.db_args + list(extra_args)
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=self.log_file,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            text = self.log_since_start()
            if "event=listening" in text:
                m = re.search(r"event=tls_ca\b[^\n]*?\bsha256=([0-9a-fA-F]{64})", text)
                if m:
                    self.ca_log_sha256 = m.group(1).lower()
                m = re.search(r"event=tls_ca\b[^\n]*?\bpath=(\"[^\"]*\"|\S+)", text)
                if m:
                    self.ca_log_path = m.group(1).strip('"')
                return True
            rc = self.proc.poll()
            if rc is not None:
                self._reap(rc)
                if re.search(r"address already in use|EADDRINUSE", text, re.I):
                    return False
                raise HarnessError(
                    "mentord exited with %s before listening:\n%s" % (rc, self.log_tail())
                )
            if time.monotonic() > deadline:
                self.stop(check=False)
                raise HarnessError(
                    "mentord did not log event=listening within %ds:\n%s"
                    % (START_TIMEOUT, self.log_tail())
                )
            time.sleep(0.05)

    def _reap(self, rc):
        self.exit_codes.append(rc)
        self.proc = None
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, check=True):
        """Stop mentord with `sig` and wait. With check, a non-zero exit, a
        sanitizer report or a PostgreSQL left running is an error."""
        problems = []
        if self.proc is not None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                rc = self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
                problems.append("mentord did not exit within %ds of %s" % (STOP_TIMEOUT, sig.name))
            if rc != 0 and not problems:
                problems.append("mentord exited with %s after %s" % (rc, sig.name))
            self._reap(rc)
        leftovers = self.kill_leftovers()
        if leftovers:
            problems.append("PostgreSQL still running after mentord stopped: pids %s" % leftovers)
        text = self.log_text()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                problems.append("sanitizer report in the mentord log")
                break
        if problems and check:
            raise HarnessError("; ".join(problems) + "\n" + self.log_tail())
        return problems

    def kill_leftovers(self):
        """Kill PostgreSQL servers still running in our data directory and
        return their pids."""
        if not os.path.isdir(self.data_dir):
            return []
        pids = _postmaster_pids(self.data_dir)
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 10
        while any(_pid_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        for pid in pids:
            if _pid_alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        return pids

    def restart(self, **kw):
        self.stop()
        self.start(port=self.port, **kw)

    def destroy(self, check=True):
        """Stop everything and remove the directory. Raises afterwards if
        the shutdown was not clean and check is set."""
        try:
            problems = self.stop(check=False)
        finally:
            if self.log_file is not None:
                self.log_file.close()
                self.log_file = None
            kept = os.environ.get("MENTORD_TEST_KEEP")
            if not kept:
                shutil.rmtree(self.root, ignore_errors=True)
            if self in _live_servers:
                _live_servers.remove(self)
        if problems and check:
            raise HarnessError("unclean shutdown: " + "; ".join(problems))

    # -- logs --------------------------------------------------------------

    def log_text(self):
        try:
            with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_since_start(self):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=120):
        lines = self.log_text().splitlines()
        return "---- mentord log (last %d lines) ----\n%s\n----" % (n, "\n".join(lines[-n:]))

    # -- clients -----------------------------------------------------------

    def client(self, name=None, port=None):
        """A new mentorctl user with empty state."""
        self._clients += 1
        home = os.path.join(self.root, "clients", name or "c%d" % self._clients)
        return Client(self, home, port=port)

    def ctl(self, *args, **kw):
        """mentorctl as this server's default user (see Client.ctl)."""
        if self._default_client is None:
            self._default_client = self.client("default")
        return self._default_client.ctl(*args, **kw)

    def login_admin(self, client=None):
        """Log a client (a new one unless given) in as the first admin and
        return it."""
        c = client or self.client()
        c.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        return c

    def make_user(self, admin, role="member", name=None, org=ORG, password=None):
        """Invite a user through `admin`, accept the invitation and log a new
        client in as them. Returns a Person."""
        email = "%s@%s.test" % (unique(role), org)
        name = name or "Test %s" % role.capitalize()
        doc = admin.ok("user", "invite", "--email", email, "--name", name, "--role", role)
        code = doc["invite_code"]
        password = password or "pw-" + uuid.uuid4().hex
        c = self.client()
        cp = c.ctl("invite", "accept", code, "--password-stdin", input=password + "\n")
        if cp.returncode != 0:
            raise HarnessError(describe(cp, "invite accept failed"))
        c.login(email, password, org=org)
        return Person(c, doc["user"], email, password, org)


def cleanup_all():
    """Last-chance cleanup of every server and cluster this process started."""
    for srv in list(_live_servers):
        with contextlib.suppress(Exception):
            srv.destroy(check=False)
    for cluster in list(_live_clusters):
        with contextlib.suppress(Exception):
            cluster.destroy()


# ---------------------------------------------------------------------------
# A throwaway PostgreSQL cluster, for mentord's external-database mode

_live_clusters = []


def _pg_version_key(path):
    m = re.search(r"/postgresql/(\d+)(?:\.(\d+))?/", path)
    return (int(m.group(1)), int(m.group(2) or 0)) if m else (0, 0)


def pg_bindir():
    """Where PostgreSQL's server programs are: $MENTORD_TEST_PG_BINDIR, else
    `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin."""
    d = os.environ.get("MENTORD_TEST_PG_BINDIR")
    if d:
        return d
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        cp = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10)
        d = cp.stdout.strip()
        if cp.returncode == 0 and os.access(os.path.join(d, "initdb"), os.X_OK):
            return d
    found = sorted(
        (os.path.dirname(p) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=_pg_version_key,
    )
    if not found:
        raise HarnessError("PostgreSQL's programs (initdb, postgres) not found")
    return found[-1]


def _pg_program(bindir, name):
    """A program from bindir, else from PATH (client tools such as psql)."""
    p = os.path.join(bindir, name)
    if os.access(p, os.X_OK):
        return p
    p = shutil.which(name)
    if p is None:
        raise HarnessError("%s not found in %s or on PATH" % (name, bindir))
    return p


def _pg_user_preexec(pdeathsig=None):
    """A preexec_fn running the child as the `postgres` system user when we
    are root (PostgreSQL refuses to run as root), optionally with a
    parent-death signal (set after the user change, which would clear it)."""
    ids = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise HarnessError("running as root but there is no `postgres` system user")
        ids = (pw.pw_uid, pw.pw_gid)

    def pre():
        if ids is not None:
            os.setgroups([])
            os.setgid(ids[1])
            os.setuid(ids[0])
        if pdeathsig is not None:
            with contextlib.suppress(Exception):
                ctypes.CDLL(None, use_errno=True).prctl(1, pdeathsig, 0, 0, 0)

    return pre, ids


class PgCluster:
    """A PostgreSQL cluster of its own in a temporary directory under /tmp:
    superuser `owner` with trust authentication, no TCP, a Unix socket in
    its own directory. postgres runs as a child of the test process (it
    gets SIGQUIT if the test process dies). Always call destroy()."""

    def __init__(self, owner="mdowner"):
        self.owner = owner
        self.bindir = pg_bindir()
        self._preexec, ids = _pg_user_preexec()
        self.root = tempfile.mkdtemp(prefix="mentord-pgx-")
        os.chmod(self.root, 0o755)
        self.pg_dir = os.path.join(self.root, "cluster")
        self.data_dir = os.path.join(self.pg_dir, "data")
        self.socket_dir = os.path.join(self.pg_dir, "sock")
        self.log_path = os.path.join(self.root, "postgres.log")
        self.port = free_port()
        self.proc = None
        os.makedirs(self.socket_dir)
        if ids is not None:
            for d in (self.pg_dir, self.socket_dir):
                os.chown(d, ids[0], ids[1])
        _live_clusters.append(self)

    @classmethod
    def create(cls, database="mentord", owner="mdowner"):
        cluster = cls(owner=owner)
        try:
            cluster.initdb()
            cluster.start()
            if database:
                cluster.psql("CREATE DATABASE %s" % database, dbname="postgres")
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    def _env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        return env

    def _run_as_pg(self, argv, timeout=60):
        cp = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            env=self._env(),
            preexec_fn=self._preexec,
        )
        return cp

    def initdb(self):
        cp = self._run_as_pg(
            [
                os.path.join(self.bindir, "initdb"),
                "-D", self.data_dir,
                "-U", self.owner,
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
                "-E", "UTF8",
                "--locale=C",
            ],
            timeout=120,
        )
        if cp.returncode != 0:
            raise HarnessError(describe(cp, "initdb failed"))

    def conninfo(self, user, dbname="mentord"):
        return "host=%s port=%d dbname=%s user=%s" % (self.socket_dir, self.port, dbname, user)

    def postmaster_pid(self):
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid"), "r") as f:
                pid = int(f.readline().strip())
        except (OSError, ValueError):
            return None
        return pid if pid > 0 and _pid_alive(pid) else None

    def _ready(self):
        """True once postmaster.pid says the server accepts connections."""
        try:
            with open(os.path.join(self.data_dir, "postmaster.pid"), "r") as f:
                lines = f.read().splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def start(self, timeout=60):
        """Start postgres (same port and socket every time) and wait until
        it accepts connections."""
        assert not self.running(), "cluster already running"
        pre, _ = _pg_user_preexec(pdeathsig=signal.SIGQUIT)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    os.path.join(self.bindir, "postgres"),
                    "-D", self.data_dir,
                    "-c", "listen_addresses=",
                    "-c", "unix_socket_directories=%s" % self.socket_dir,
                    "-c", "port=%d" % self.port,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=self.root,
                env=self._env(),
                preexec_fn=pre,
            )
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.proc.poll() is not None:
                self.proc = None
                raise HarnessError("postgres exited at start:\n" + self.log_tail())
            if time.monotonic() > deadline:
                raise HarnessError("postgres not ready within %ds:\n%s" % (timeout, self.log_tail()))
            time.sleep(0.05)

    def running(self):
        return (self.proc is not None and self.proc.poll() is None) or self.postmaster_pid() is not None

    def stop(self, mode="fast", timeout=30):
        """Stop with `pg_ctl stop -m mode`; falls back to signals when
        pg_ctl fails. Returns pg_ctl's CompletedProcess (or None)."""
        cp = None
        if self.running():
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                cp = self._run_as_pg(
                    [
                        os.path.join(self.bindir, "pg_ctl"),
                        "stop", "-D", self.data_dir, "-m", mode, "-w", "-t", str(timeout),
                    ],
                    timeout=timeout + 10,
                )
        self._kill_rest()
        return cp

    def _kill_rest(self):
        """Make sure no postmaster of this cluster is left, by pid."""
        pids = set()
        pid = self.postmaster_pid()
        if pid:
            pids.add(pid)
        if self.proc is not None and self.proc.poll() is None:
            pids.add(self.proc.pid)
        for sig, wait in ((signal.SIGQUIT, 10), (signal.SIGKILL, 10)):
            live = [p for p in pids if _pid_alive(p)]
            if not live:
                break
            for p in live:
                with contextlib.suppress(OSError):
                    os.kill(p, sig)
            deadline = time.monotonic() + wait
            while any(_pid_alive(p) for p in live) and time.monotonic() < deadline:
                if self.proc is not None:
                    self.proc.poll()
                time.sleep(0.05)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
            self.proc = None

    def destroy(self):
        try:
            self.stop(mode="immediate")
        finally:
            if not os.environ.get("MENTORD_TEST_KEEP"):
                shutil.rmtree(self.root, ignore_errors=True)
            if self in _live_clusters:
                _live_clusters.remove(self)

    def psql(self, sql, user=None, dbname="mentord", check=True):
        """Run SQL with psql (unaligned, tuples only) and return the
        CompletedProcess; with check, a failure raises."""
        cp = subprocess.run(
            [
                _pg_program(self.bindir, "psql"),
                "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1",
                "-h", self.socket_dir, "-p", str(self.port),
                "-U", user or self.owner, "-d", dbname,
                "-c", sql,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=self._env(),
        )
        if check and cp.returncode != 0:
            raise HarnessError(describe(cp, "psql failed"))
        return cp

    def rows(self, sql, **kw):
        """The result rows of a query as lists of strings."""
        out = self.psql(sql, **kw).stdout
        return [line.split("|") for line in out.splitlines() if line != ""]

    def log_tail(self, n=60):
        try:
            with open(self.log_path, "r", encoding="utf-8", errors="replace") as f:
                lines = f.read().splitlines()
        except OSError:
            lines = []
        return "---- postgres log (last %d lines) ----\n%s\n----" % (n, "\n".join(lines[-n:]))


# ---------------------------------------------------------------------------
# Raw protocol client


class ConnectionClosed(Exception):
    pass


def load_proto_module(out_dir):
    """Compile proto/mentor.proto with protoc into out_dir and import it."""
    proto_dir = os.path.join(SOURCE_DIR, "proto")
    subprocess.run(
        ["protoc", "--python_out=" + out_dir, "-I", proto_dir, os.path.join(proto_dir, "mentor.proto")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    if out_dir not in sys.path:
        sys.path.insert(0, out_dir)
    import importlib

    return importlib.import_module("mentor_pb2")


def encode_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_field(number, wire_type, payload):
    """Hand-encode one protobuf field: wire type 0 takes an int, 2 bytes."""
    tag = encode_varint((number << 3) | wire_type)
    if wire_type == 0:
        return tag + encode_varint(payload)
    if wire_type == 2:
        return tag + encode_varint(len(payload)) + payload
    raise ValueError("unsupported wire type")


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


class RawConn:
    """A protocol client built only from mentor.proto and the framing rule,
    the way a third party would write one."""

    def __init__(self, pb, port, ca_path, host="127.0.0.1", timeout=30):
        self.pb = pb
        self.next_id = 1
        self.pending = {}
        self.pushes = []
        ctx = ssl.create_default_context(cafile=ca_path)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=host)
        except BaseException:
            raw.close()
            raise

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_bytes(self, data):
        self.sock.sendall(data)

    def send_frame(self, payload):
        self.send_bytes(frame(payload))

    def build(self, kind, msg=None, id=None, **fields):
        req = self.pb.Request()
        if id is None:
            id = self.next_id
            self.next_id += 1
        req.id = id
        sub = getattr(req, kind)
        if msg is not None:
            sub.CopyFrom(msg)
        else:
            sub.SetInParent()
            for k, v in fields.items():
                setattr(sub, k, v)
        return req

    def send(self, kind, msg=None, **fields):
        req = self.build(kind, msg, **fields)
        self.send_frame(req.SerializeToString())
        return req.id

    def _read_exact(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError, BrokenPipeError):
                raise ConnectionClosed()
            except ssl.SSLError as e:
                raise ConnectionClosed(str(e))
            if not chunk:
                raise ConnectionClosed()
            buf += chunk
        return bytes(buf)

    def recv_message(self):
        n = struct.unpack(">I", self._read_exact(4))[0]
        msg = self.pb.ServerMessage()
        msg.ParseFromString(self._read_exact(n))
        return msg

    def recv_response(self):
        """The next Response, whatever its id; pushes are kept aside."""
        while True:
            msg = self.recv_message()
            if msg.WhichOneof("msg") == "push":
                self.pushes.append(msg.push)
                continue
            return msg.response

    def wait(self, id):
        """The Response to request `id`; others that arrive first are kept."""
        if id in self.pending:
            return self.pending.pop(id)
        while True:
            r = self.recv_response()
            if r.id == id:
                return r
            self.pending[r.id] = r

    def call(self, kind, msg=None, **fields):
        return self.wait(self.send(kind, msg, **fields))

    def hello(self, major=1, minor=0, client_name="mentord integration tests"):
        return self.call("hello", protocol_major=major, protocol_minor=minor, client_name=client_name)

    def login(self, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, org=ORG):
        return self.call("login", org=org, email=email, password=password)

    def expect_closed(self, timeout=15):
        """Read until the server closes; returns the responses seen before."""
        self.sock.settimeout(timeout)
        seen = []
        try:
            while True:
                seen.append(self.recv_response())
        except ConnectionClosed:
            return seen
        except socket.timeout:
            raise HarnessError("server kept the connection open (saw %r)" % seen)
