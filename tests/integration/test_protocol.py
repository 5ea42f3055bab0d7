"""The wire protocol seen by a third party: a client written only from
proto/mentor.proto (compiled with protoc at test time), Python's ssl module
and the framing rule (4-byte big-endian length, then the message).

Covers the conversation rules stated in the .proto (Hello first, version
check, login gate, pipelining, unknown kinds, undecodable and oversized
frames, session tokens) and hostile peers: plaintext instead of TLS, stalled
handshakes and frames, clients that vanish with requests in flight, clients
that stop reading. After every hostile case a normal client must still be
served, and the server must still stop cleanly at the end.
"""

import contextlib
import socket
import ssl
import struct
import time

import pytest

import harness
from harness import ADMIN_EMAIL, ORG, encode_field, frame

DEFAULT_MAX_FRAME = 1024 * 1024


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


def logged_in(raw, pb, **kw):
    c = raw(**kw)
    check_ok(pb, c.hello(), "hello")
    check_ok(pb, c.login(), "login")
    return c


def assert_healthy(server, raw, pb):
    """A normal client still gets Hello, Login and WhoAmI answered."""
    assert server.running(), "mentord is gone:\n" + server.log_tail()
    start = time.monotonic()
    c = raw(timeout=20)
    try:
        check_ok(pb, c.hello(), "hello")
        check_ok(pb, c.login(), "login")
        w = check_ok(pb, c.call("whoami"), "whoami")
        assert w.whoami.user.email == ADMIN_EMAIL
    finally:
        c.close()
    assert time.monotonic() - start < 15, "a normal client waited too long"


def tcp_connect(server, timeout=15):
    return socket.create_connection(("127.0.0.1", server.port), timeout=timeout)


def closed_by_peer(sock, timeout=15):
    """True when the peer closes the TCP connection within timeout (any
    bytes it sends before, such as a TLS alert, are ignored)."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(4096):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def abort(sock):
    """Close with a reset instead of an orderly shutdown."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


# ---------------------------------------------------------------------------
# Hello and version


def test_hello_reply(raw, pb):
    c = raw()
    r = check_ok(pb, c.hello(), "hello")
    assert r.id == 1
    h = r.hello
    assert h.protocol_major == 1
    assert h.server_version.strip()
    assert h.max_frame_bytes == DEFAULT_MAX_FRAME
    assert h.max_in_flight >= 1


def test_certificate_names_and_tls_version(raw, pb):
    for host in ("127.0.0.1", "localhost"):
        c = raw(host=host)
        assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
        check_ok(pb, c.hello(), "hello")
    with pytest.raises(ssl.SSLCertVerificationError):
        raw(host="mentor.example.org")


def test_unsupported_major_version_is_refused_and_closed(raw, pb):
    c = raw()
    r = check_code(pb, c.hello(major=2), "FAILED_PRECONDITION")
    assert r.id == 1
    c.expect_closed()


def test_request_before_hello_is_refused(raw, pb):
    c = raw()
    r = c.call("whoami")
    assert r.status.code != pb.OK
    assert code_name(pb, r.status.code) in ("FAILED_PRECONDITION", "UNAUTHENTICATED")


def test_login_required_and_connection_kept(raw, pb):
    c = raw()
    check_ok(pb, c.hello(), "hello")
    for kind in ("whoami", "org_show", "user_list", "org_list"):
        check_code(pb, c.call(kind), "UNAUTHENTICATED")
    r = check_ok(pb, c.login(), "login")
    assert r.login.session_token
    assert r.login.expires_at > time.time()
    assert r.login.user.email == ADMIN_EMAIL
    assert r.login.user.role == pb.ADMIN
    assert r.login.org.slug == ORG
    w = check_ok(pb, c.call("whoami"), "whoami")
    assert w.whoami.user.email == ADMIN_EMAIL
    assert w.whoami.org.slug == ORG
    assert w.whoami.session_expires_at > time.time()


def test_unknown_account_gets_invalid_credentials(raw, pb):
    c = raw()
    check_ok(pb, c.hello())
    r = check_code(pb, c.login(email="nobody-%s@acme.test" % harness.unique()), "UNAUTHENTICATED")
    assert "invalid credentials" in r.status.message
    r = check_code(pb, c.login(org=harness.unique("noorg")), "UNAUTHENTICATED")
    assert "invalid credentials" in r.status.message


def test_session_token_resume_and_logout(raw, pb):
    first = raw()
    check_ok(pb, first.hello())
    token = check_ok(pb, first.login(), "login").login.session_token
    assert token
    other = logged_in(raw, pb)  # a second, independent session

    resumed = raw()
    check_ok(pb, resumed.hello())
    r = check_ok(pb, resumed.call("login", session_token=token), "login")
    assert r.login.session_token == "", "a resumed session does not hand out its token again"
    assert r.login.user.email == ADMIN_EMAIL
    check_ok(pb, resumed.call("whoami"), "whoami")

    bogus = raw()
    check_ok(pb, bogus.hello())
    check_code(pb, bogus.call("login", session_token="not-a-token-" + "0" * 40), "UNAUTHENTICATED")

    # Logging out on one connection ends that session on every connection.
    check_ok(pb, resumed.call("logout"))
    check_code(pb, resumed.call("whoami"), "UNAUTHENTICATED")
    check_code(pb, first.call("whoami"), "UNAUTHENTICATED")
    again = raw()
    check_ok(pb, again.hello())
    check_code(pb, again.call("login", session_token=token), "UNAUTHENTICATED")
    # Another session of the same user is not affected.
    check_ok(pb, other.call("whoami"), "whoami")


# ---------------------------------------------------------------------------
# Pipelining and unknown kinds


def test_pipelined_requests_all_answered(raw, pb):
    c = raw()
    hello = check_ok(pb, c.hello(), "hello").hello
    check_ok(pb, c.login())
    n = max(50, min(2 * hello.max_in_flight + 8, 600))
    kinds = [("whoami", "whoami"), ("org_show", "org"), ("user_list", "user_list")]
    expected = {}
    batch = bytearray()
    for i in range(n):
        kind, result = kinds[i % len(kinds)]
        req = c.build(kind, id=1000 + i)
        expected[req.id] = result
        batch += frame(req.SerializeToString())
    c.send_bytes(bytes(batch))
    seen = {}
    for _ in range(n):
        r = c.recv_response()
        assert r.id in expected, "unexpected id %d" % r.id
        assert r.id not in seen, "id %d answered twice" % r.id
        check_ok(pb, r, expected[r.id])
        seen[r.id] = r
    assert set(seen) == set(expected)
    # Still in order for more work afterwards.
    check_ok(pb, c.call("whoami"), "whoami")


def test_unknown_request_kind_keeps_connection(raw, pb):
    c = logged_in(raw, pb)
    # Field 999 is not a kind this protocol version defines.
    c.send_frame(encode_field(1, 0, 77) + encode_field(999, 2, b"\x08\x01"))
    check_code(pb, c.wait(77), "INVALID_ARGUMENT")
    # A request with no kind at all.
    c.send_frame(encode_field(1, 0, 78))
    check_code(pb, c.wait(78), "INVALID_ARGUMENT")
    # An empty frame decodes as a Request with nothing set.
    c.send_frame(b"")
    r = check_code(pb, c.recv_response(), "INVALID_ARGUMENT")
    assert r.id == 0
    w = check_ok(pb, c.call("whoami"), "whoami")
    assert w.whoami.user.email == ADMIN_EMAIL


def test_invalid_utf8_in_any_string_is_refused_by_field(raw, pb):
    """protobuf-c does not check UTF-8; the server checks every string of
    every request (nested and repeated ones too) before any handler runs."""
    c = logged_in(raw, pb)
    cases = [
        ("user_invite", pb.UserInvite(email="m@acme.test", display_name="MARKER__"),
         "user_invite.display_name"),
        ("participant_import", pb.ParticipantImport(
            program_id=1, import_id="utf8-check-1",
            rows=[pb.ImportRow(row=2, email="ok@acme.test"),
                  pb.ImportRow(row=3, email="MARKER__")]),
         "participant_import.rows.email"),
        ("profile_update", pb.ProfileUpdate(
            program_id=1, update_mask=["interests"],
            profile=pb.Profile(interests=["chess", "MARKER__"])),
         "profile_update.profile.interests"),
    ]
    for i, (kind, msg, field) in enumerate(cases):
        data = c.build(kind, msg, id=500 + i).SerializeToString()
        assert data.count(b"MARKER__") == 1
        # Same length, so every length prefix stays right: a lone
        # continuation byte, an overlong '/', and a UTF-16 surrogate.
        c.send_frame(data.replace(b"MARKER__", b"\x80\xc0\xaf\xed\xa0\x80ab"))
        r = check_code(pb, c.wait(500 + i), "INVALID_ARGUMENT")
        assert r.status.field == field, (kind, r.status)
        assert "UTF-8" in r.status.message
    # Nothing was created, and the connection still works.
    w = check_ok(pb, c.call("whoami"), "whoami")
    assert w.whoami.user.email == ADMIN_EMAIL
    users = check_ok(pb, c.call("user_list"), "user_list")
    assert all(u.email != "m@acme.test" for u in users.user_list.users)


def padded_whoami(id, total):
    """A WhoAmI request of exactly `total` bytes, padded with an unknown
    field inside WhoAmI (which a server must skip)."""

    def build(pad):
        inner = encode_field(50, 2, b"p" * pad)
        return encode_field(1, 0, id) + encode_field(13, 2, inner)

    pad = total - 16
    for _ in range(10):
        data = build(pad)
        if len(data) == total:
            return data
        pad += total - len(data)
    raise AssertionError("could not pad a request to %d bytes" % total)


def test_frame_of_exactly_the_limit_is_accepted(raw, pb):
    c = raw()
    limit = check_ok(pb, c.hello(), "hello").hello.max_frame_bytes
    check_ok(pb, c.login())
    c.send_frame(padded_whoami(4242, limit))
    w = check_ok(pb, c.wait(4242), "whoami")
    assert w.whoami.user.email == ADMIN_EMAIL
    check_ok(pb, c.call("whoami"), "whoami")


# ---------------------------------------------------------------------------
# Connection-level errors: answered with id 0, then closed


def test_undecodable_frame_is_answered_and_closed(server, raw, pb):
    c = logged_in(raw, pb)
    c.send_frame(b"\xff\xff\xff")
    r = check_code(pb, c.recv_response(), "INVALID_ARGUMENT")
    assert r.id == 0
    c.expect_closed()
    assert_healthy(server, raw, pb)


@pytest.mark.parametrize(
    "claimed", [2 * 1024 * 1024, DEFAULT_MAX_FRAME + 1, 0xFFFFFFFF], ids=["2MiB", "max+1", "4GiB"]
)
def test_oversized_frame_is_answered_and_closed(server, raw, pb, claimed):
    c = logged_in(raw, pb)
    # Only the header: the server must decide without waiting for the body.
    c.send_bytes(struct.pack(">I", claimed))
    r = check_code(pb, c.recv_response(), "RESOURCE_EXHAUSTED")
    assert r.id == 0
    c.expect_closed()
    assert_healthy(server, raw, pb)


def test_oversized_frame_before_hello(server, raw, pb):
    c = raw()
    c.send_bytes(struct.pack(">I", 2 * 1024 * 1024))
    seen = c.expect_closed()
    assert seen and seen[0].status.code == pb.RESOURCE_EXHAUSTED
    assert_healthy(server, raw, pb)


# ---------------------------------------------------------------------------
# Hostile and careless peers


def test_plaintext_http_is_dropped(server, raw, pb):
    with tcp_connect(server) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        assert closed_by_peer(s), "server kept a plaintext HTTP connection open"
    assert_healthy(server, raw, pb)


def test_plaintext_framed_hello_is_dropped(server, raw, pb):
    req = pb.Request(id=1)
    req.hello.protocol_major = 1
    req.hello.client_name = "no tls"
    with tcp_connect(server) as s:
        s.sendall(frame(req.SerializeToString()))
        assert closed_by_peer(s), "server kept a plaintext connection open"
    assert_healthy(server, raw, pb)


def test_random_bytes_instead_of_tls(server, raw, pb):
    import random

    rnd = random.Random(20270401)
    for i in range(20):
        with tcp_connect(server) as s:
            junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000)))
            if i % 2 == 0:
                junk = b"\x16\x03\x01" + junk  # looks like a handshake record
            with contextlib.suppress(OSError):
                s.sendall(junk)
            # Some of these wait for more bytes; the server's reaction is not
            # the point, surviving it is.
            if i % 3 == 0:
                abort(s)
    assert_healthy(server, raw, pb)


def test_peers_that_vanish(server, raw, pb):
    # Connect and leave at once, at every stage.
    for _ in range(5):
        tcp_connect(server).close()
        abort(tcp_connect(server))
        c = raw()
        c.close()
        c = raw()
        check_ok(pb, c.hello())
        abort(c.sock)
    assert_healthy(server, raw, pb)


def test_client_vanishes_with_requests_in_flight(server, raw, pb):
    for _ in range(5):
        c = logged_in(raw, pb)
        batch = bytearray()
        for i in range(40):
            kind = ("user_list", "whoami", "org_show")[i % 3]
            batch += frame(c.build(kind, id=10 + i).SerializeToString())
        c.send_bytes(bytes(batch))
        abort(c.sock)
    # Same, but gone while a login (password hashing) is running.
    for _ in range(3):
        c = raw()
        check_ok(pb, c.hello())
        c.send("login", org=ORG, email=ADMIN_EMAIL, password=harness.ADMIN_PASSWORD)
        abort(c.sock)
    time.sleep(1)
    assert_healthy(server, raw, pb)


def test_slow_peers_do_not_hold_up_others(server, raw, pb):
    held = []
    try:
        # A TCP connection that never says anything.
        held.append(tcp_connect(server))
        # A TLS handshake stalled after the first bytes of a record header.
        s = tcp_connect(server)
        s.sendall(b"\x16\x03\x01\x02")
        held.append(s)
        # A session stalled in the middle of a frame header.
        mid_header = logged_in(raw, pb)
        mid_header.send_bytes(b"\x00\x00")
        # A session stalled in the middle of a request.
        mid_frame = logged_in(raw, pb)
        data = frame(mid_frame.build("whoami", id=555).SerializeToString())
        mid_frame.send_bytes(data[:7])

        assert_healthy(server, raw, pb)
        assert_healthy(server, raw, pb)

        # The stalled request completes once its remaining bytes arrive.
        mid_frame.send_bytes(data[7:])
        w = check_ok(pb, mid_frame.wait(555), "whoami")
        assert w.whoami.user.email == ADMIN_EMAIL
        # The stalled header completes as the header of a WhoAmI.
        rest = mid_header.build("whoami", id=556).SerializeToString()
        header = struct.pack(">I", len(rest))
        assert header[:2] == b"\x00\x00"
        mid_header.send_bytes(header[2:] + rest)
        check_ok(pb, mid_header.wait(556), "whoami")
    finally:
        for s in held:
            s.close()
    assert_healthy(server, raw, pb)


def test_client_that_stops_reading(server, raw, pb):
    c = logged_in(raw, pb, timeout=120)
    n = 1000
    batch = bytearray()
    for i in range(n):
        batch += frame(c.build("user_list", id=20000 + i).SerializeToString())
    # The requests are small enough for the socket buffers; the answers
    # (about a megabyte) are not, so the server has to hold back.
    c.send_bytes(bytes(batch))
    time.sleep(1.0)
    # Others are served while this client reads nothing.
    assert_healthy(server, raw, pb)
    ids = set()
    for _ in range(n):
        r = check_ok(pb, c.recv_response(), "user_list")
        ids.add(r.id)
    assert ids == {20000 + i for i in range(n)}
    check_ok(pb, c.call("whoami"), "whoami")
