"""mentord's settings: a config file, then the environment, then flags;
`--check-config` prints the result with each setting's source and the
database password masked; unknown names and bad values are errors naming
them; a server really starts from a config file."""

import os
import subprocess

import harness

EXAMPLE = os.path.join(harness.SOURCE_DIR, "docs", "mentord.conf.example")


def check(*args, env=None, config=None):
    harness.check_binaries()
    e = {k: v for k, v in os.environ.items() if not k.startswith("MENTORD_")}
    e.update(env or {})
    argv = [harness.MENTORD_BIN]
    if config is not None:
        argv += ["--config", config]
    cp = subprocess.run(argv + ["--check-config", *args], capture_output=True, text=True,
                        env=e, timeout=30)
    settings = {}
    for line in cp.stdout.splitlines():
        name, _, rest = line.partition("=")
        value, _, source = rest.rpartition("(")
        settings[name.strip()] = (value.strip(), source.rstrip(")"))
    return cp, settings


def test_precedence_file_then_environment_then_flags(tmp_path):
    conf = tmp_path / "m.conf"
    conf.write_text("# comment\npool-size = 7\n[mentord]\ndata_dir = %s\nsession-idle = 300\n"
                    "log-level = warn\nlisten = 127.0.0.1:7999\n" % tmp_path)
    cp, s = check(config=str(conf))
    assert cp.returncode == 0, cp.stderr
    assert s["pool-size"] == ("7", "config") and s["session-idle"] == ("300", "config")
    assert s["log-level"] == ("warn", "config") and s["max-frame"] == ("1048576", "default")
    cp, s = check("--session-idle", "120", config=str(conf),
                  env={"MENTORD_POOL_SIZE": "9", "MENTORD_SESSION_IDLE": "200"})
    assert cp.returncode == 0, cp.stderr
    assert s["pool-size"] == ("9", "environment")
    assert s["session-idle"] == ("120", "flag")
    # MENTORD_CONFIG names the file when --config does not.
    cp, s = check(env={"MENTORD_CONFIG": str(conf)})
    assert s["pool-size"] == ("7", "config"), cp.stdout + cp.stderr


def test_errors_name_the_setting(tmp_path):
    bad = tmp_path / "bad.conf"
    for text, says in (("bogus = 1\n", "line 1: unknown setting 'bogus'"),
                       ("pool-size = 7\nmax-frame = 12\n", "line 2: max-frame: wants a number"),
                       ("[other]\npool-size = 3\n", "unknown section [other]"),
                       ("log-level = loud\n", "unknown log level 'loud'"),
                       ("no equals sign here\n", "line 1")):
        bad.write_text(text)
        cp, _ = check("--data-dir", str(tmp_path), config=str(bad))
        assert cp.returncode == 2 and says in cp.stderr, (text, cp.stderr)
    cp, _ = check("--data-dir", str(tmp_path), env={"MENTORD_POOL_SIZE": "many"})
    assert cp.returncode == 2 and "MENTORD_POOL_SIZE" in cp.stderr, cp.stderr
    cp, _ = check("--data-dir", str(tmp_path), config=str(tmp_path / "missing.conf"))
    assert cp.returncode == 2 and "cannot read" in cp.stderr, cp.stderr


def test_database_password_is_masked(tmp_path):
    conf = tmp_path / "db.conf"
    conf.write_text("db = host=/run/pg user=mentord_app password=hunter2-secret dbname=md\n"
                    "cert = %s\nkey = %s\n" % (tmp_path / "c", tmp_path / "k"))
    cp, s = check(config=str(conf), env={"MENTORD_DB_OWNER_URL":
                                         "postgresql://owner:owner-secret@localhost/md"})
    assert cp.returncode == 0, cp.stderr
    assert "hunter2-secret" not in cp.stdout + cp.stderr
    assert "owner-secret" not in cp.stdout + cp.stderr
    assert "password=********" in s["db"][0] and "user=mentord_app" in s["db"][0]


def test_example_file_is_valid(tmp_path):
    cp, s = check(config=EXAMPLE)
    assert cp.returncode == 0, cp.stderr
    assert s["pool-size"] == ("8", "config")


def test_server_starts_from_a_config_file(server_factory, pb, tmp_path):
    srv = server_factory(start=False)
    conf = tmp_path / "serve.conf"
    conf.write_text("max-in-flight = 7\nmax-frame = 65536\n")
    srv.start(extra_args=["--config", str(conf)])
    c = harness.RawConn(pb, srv.port, srv.ca_path)
    try:
        hello = c.hello()
        assert hello.hello.max_in_flight == 7 and hello.hello.max_frame_bytes == 65536
        assert c.login().status.code == pb.OK
    finally:
        c.close()
