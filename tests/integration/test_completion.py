"""`mentorctl completion bash` writes a completion script from the command
table itself: it loads in bash and completes groups, commands and each
command's options (so it cannot drift from the commands)."""

import subprocess

import harness


def complete(script, *words):
    """The candidates bash offers for the last word of `mentorctl WORDS`."""
    ws = " ".join("'%s'" % w for w in ("mentorctl",) + words)
    program = ("%s\nCOMP_WORDS=(%s); COMP_CWORD=%d; _mentorctl; printf '%%s\\n' "
               "\"${COMPREPLY[@]}\"" % (script, ws, len(words)))
    cp = subprocess.run(["bash", "--norc", "--noprofile", "-c", program], capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    return set(cp.stdout.split())


def test_completion_script_follows_the_command_table(tmp_path):
    harness.check_binaries()
    cp = subprocess.run([harness.MENTORCTL_BIN, "completion", "bash"], capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode == 0, cp.stderr
    script = cp.stdout
    loaded = subprocess.run(["bash", "--norc", "-c", script + "\ncomplete -p mentorctl"],
                            capture_output=True, text=True, timeout=30)
    assert loaded.returncode == 0 and "_mentorctl" in loaded.stdout, loaded.stderr
    assert {"user", "program", "import", "login", "whoami", "token"} <= complete(script, "")
    assert complete(script, "us") == {"user"}
    assert {"list", "invite", "reset-password"} <= complete(script, "user", "")
    assert complete(script, "import", "u") == {"users"}
    assert {"--all", "--json", "--help"} <= complete(script, "user", "list", "--")
    assert "--scope" in complete(script, "token", "create", "--")
    assert "--skip-invalid" in complete(script, "--server", "h:1", "import", "participants", "--")
    assert "--all" in complete(script, "logout", "--")
    # Every group completes to its commands.
    for group in ("invite", "org", "user", "program", "participant", "profile", "import",
                  "export", "token", "audit", "password"):
        assert group in complete(script, ""), group
        assert complete(script, group, ""), group
    cp = subprocess.run([harness.MENTORCTL_BIN, "completion", "zsh"], capture_output=True,
                        text=True, timeout=30)
    assert cp.returncode == 2
