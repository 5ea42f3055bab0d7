"""Transport security: TLS versions and ciphers, certificate reload on
SIGHUP, the frame cap and deadline before login, and secrets kept out of
the database dump."""

import hashlib
import os
import signal
import socket
import ssl
import struct
import subprocess
import time

import pytest

import harness
from harness import ADMIN_EMAIL, ADMIN_PASSWORD
from test_protocol import padded_whoami


def s_client(port, *args):
    """openssl s_client against the server; returns (handshake ok, output)."""
    cp = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-servername", "localhost",
         *args],
        input="", capture_output=True, text=True, timeout=30)
    out = cp.stdout + cp.stderr
    ok = cp.returncode == 0 and "Cipher is (NONE)" not in out and "Cipher is" in out
    return ok, out


def test_only_tls12_and_13_with_aead_ciphers(server):
    ok, out = s_client(server.port, "-tls1_3")
    assert ok, out
    ok, out = s_client(server.port, "-tls1_2")
    assert ok, out
    assert "GCM" in out or "CHACHA20" in out, out
    # Older protocols are refused even by a client willing to use them.
    ok, out = s_client(server.port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    assert not ok, out
    # CBC (non-AEAD) suites, RSA key exchange included, are refused.
    ok, out = s_client(server.port, "-tls1_2", "-cipher",
                       "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA256:"
                       "ECDHE-RSA-AES128-SHA256:AES128-SHA:AES128-GCM-SHA256")
    assert not ok, out


def make_pair(directory, name):
    """A self-signed ECDSA P-256 certificate for localhost/127.0.0.1."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o644)  # readable by the server whoever runs it
    return cert, key


def served_fingerprint(port):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def file_fingerprint(cert):
    der = ssl.PEM_cert_to_DER_cert(open(cert).read())
    return hashlib.sha256(der).hexdigest()


def wait_for_log(srv, text, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.log_since_start():
            return
        time.sleep(0.05)
    raise AssertionError("no %r in the log:\n%s" % (text, srv.log_tail(30)))


def test_sighup_reloads_the_certificate(server_factory, pb, tmp_path):
    os.chmod(tmp_path, 0o755)
    live_cert, live_key = str(tmp_path / "server.crt"), str(tmp_path / "server.key")
    first = make_pair(str(tmp_path), "first")
    second = make_pair(str(tmp_path), "second")
    for src, dst in ((first[0], live_cert), (first[1], live_key)):
        with open(src) as f, open(dst, "w") as g:
            g.write(f.read())
    os.chmod(live_key, 0o644)
    srv = server_factory(start=False)
    srv.start(extra_args=["--cert", live_cert, "--key", live_key])
    assert served_fingerprint(srv.port) == file_fingerprint(first[0])
    old = harness.RawConn(pb, srv.port, first[0], host="localhost")
    try:
        assert old.hello().status.code == pb.OK
        assert old.login().status.code == pb.OK
        # Swap the files, then SIGHUP: new connections get the new pair.
        for src, dst in ((second[0], live_cert), (second[1], live_key)):
            with open(src) as f, open(dst, "w") as g:
                g.write(f.read())
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_log(srv, "event=tls_reloaded")
        assert served_fingerprint(srv.port) == file_fingerprint(second[0])
        fresh = harness.RawConn(pb, srv.port, second[0], host="localhost")
        assert fresh.hello().status.code == pb.OK
        fresh.close()
        # The connection made before goes on with the old certificate.
        r = old.call("whoami")
        assert r.status.code == pb.OK and r.whoami.user.email == ADMIN_EMAIL
        # A broken pair is refused and the current one kept.
        with open(live_cert, "w") as g:
            g.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        srv.proc.send_signal(signal.SIGHUP)
        wait_for_log(srv, "event=tls_reload_failed")
        assert "action=kept_previous" in srv.log_since_start()
        assert served_fingerprint(srv.port) == file_fingerprint(second[0])
        r = old.call("whoami")
        assert r.status.code == pb.OK
    finally:
        old.close()


def test_small_frames_and_a_deadline_before_login(server_factory, pb):
    srv = server_factory(start=False)
    srv.start(extra_args=["--login-deadline", "2"])
    # Before login, a frame over 16 KiB is refused and the connection closed.
    c = harness.RawConn(pb, srv.port, srv.ca_path)
    try:
        assert c.hello().status.code == pb.OK
        c.send_bytes(struct.pack(">I", 20 * 1024))
        seen = c.expect_closed()
        assert seen and seen[0].status.code == pb.RESOURCE_EXHAUSTED
    finally:
        c.close()
    # After login the full limit applies.
    c = harness.RawConn(pb, srv.port, srv.ca_path)
    try:
        hello = c.hello()
        assert hello.hello.max_frame_bytes > 64 * 1024
        assert c.login().status.code == pb.OK
        r = c.call("user_list", pb.UserList())
        assert r.status.code == pb.OK
        # A 32 KiB request (padded with a field the server skips) is fine now.
        payload = padded_whoami(78, 32 * 1024)
        c.send_frame(payload)
        r = c.wait(78)
        assert r.status.code == pb.OK, r.status
    finally:
        c.close()
    # A connection that does not log in is closed after the deadline, even
    # if it keeps talking.
    c = harness.RawConn(pb, srv.port, srv.ca_path)
    try:
        assert c.hello().status.code == pb.OK
        start = time.monotonic()
        with pytest.raises((harness.ConnectionClosed, OSError)):
            for _ in range(40):
                c.hello()
                time.sleep(0.2)
        assert time.monotonic() - start < 6
    finally:
        c.close()
    assert "phase=login" in srv.log_since_start()


def test_database_dump_holds_no_secret(server, admin):
    """Passwords and tokens are stored only as hashes: a dump of the whole
    database does not contain any of them."""
    person = server.make_user(admin)
    tok = admin.ok("token", "create", "--name", "dump check", "--scope", "read")
    saved = open(os.path.join(admin.state_dir, "mentorctl", "session")).read() \
        if os.path.exists(os.path.join(admin.state_dir, "mentorctl", "session")) else ""
    sock = os.path.join(server.data_dir, "run")
    cp = subprocess.run(
        [os.path.join(harness.pg_bindir(), "pg_dump"), "-h", sock, "-U", "mentord_owner",
         "mentord"], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    dump = cp.stdout
    assert "audit_log" in dump and person.email in dump  # it is a real dump
    for secret in (ADMIN_PASSWORD, person.password, tok["secret"]):
        assert secret not in dump
    for line in saved.splitlines():
        for word in line.replace("=", " ").split():
            if len(word) >= 40:
                assert word not in dump, "a session token is in the dump"
