"""The audit log: `mentorctl audit list` shows what admins and coordinators
changed (users, programs, coordinators, participants), with before and
after; members' own changes are not in it; secrets and private profile
data never are; the runtime role cannot alter it; each organization sees
only its own."""

import os
import subprocess

import harness
from harness import ADMIN_EMAIL


def entries(admin, *args):
    return admin.ok("audit", "list", *args)["entries"]


def psql(server, sql):
    sock = os.path.join(server.data_dir, "run")
    return subprocess.run(
        ["psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
         "host=%s user=mentord_app dbname=mentord" % sock, "-c", sql],
        capture_output=True, text=True, timeout=60)


def test_admin_changes_are_logged_with_before_and_after(server, admin):
    me = admin.whoami()["user"]["id"]
    person = server.make_user(admin)
    uid = person.user["id"]
    admin.ok("user", "update", str(uid), "--role", "coordinator", "--name", "Renamed Person")
    log = entries(admin, "--object", "user:%d" % uid)
    actions = [e["action"] for e in log]
    assert actions[:2] == ["user_update", "user_invite"], actions
    upd = log[0]
    assert upd["actor_id"] == me and upd["actor_email"] == ADMIN_EMAIL
    assert upd["before"]["role"] == 1 and upd["after"]["role"] == 2
    assert upd["before"]["display_name"] != "Renamed Person"
    assert upd["after"]["display_name"] == "Renamed Person"
    # No secret ever reaches the log.
    for e in log:
        for row in (e["before"], e["after"]):
            if row is not None:
                assert "password_hash" not in row
    created = log[1]
    assert created["before"] is None and created["after"]["email"] == person.email

    prog = admin.ok("program", "create", "--name", harness.unique("Audited"))
    pid = prog["id"] if "id" in prog else prog["program"]["id"]
    admin.ok("program", "update", str(pid), "--cadence", "21")
    admin.ok("program", "assign-coordinator", str(pid), "--user", str(uid))
    log = entries(admin, "--object", "program:%d" % pid)
    assert [e["action"] for e in log][:2] == ["program_update", "program_create"]
    assert log[0]["before"]["checkin_cadence_days"] != log[0]["after"]["checkin_cadence_days"]
    coord = entries(admin, "--object", "program_coordinator:%d" % pid)
    assert coord and coord[0]["after"]["user_id"] == uid

    # The table view names the changed fields.
    cp = admin.ctl("audit", "list", "--object", "user:%d" % uid)
    assert cp.returncode == 0, harness.describe(cp, "audit list")
    assert "role: 1 -> 2" in cp.stdout and "user_update" in cp.stdout

    # Filters: actor and time.
    assert all(e["actor_id"] == me for e in entries(admin, "--actor", str(me)))
    assert entries(admin, "--since", "2999-01-01") == []


def test_member_changes_and_private_data_stay_out(server, admin):
    prog = admin.ok("program", "create", "--name", harness.unique("Open"))
    pid = prog["id"] if "id" in prog else prog["program"]["id"]
    admin.ok("program", "transition", str(pid), "enrolling")
    member = server.make_user(admin)
    member.client.ok("participant", "enroll", "--program", str(pid), "--role", "mentee")
    member.client.ok("profile", "edit", "--program", str(pid), "--attribute",
                     "pronouns=they/them", "--interest", "chess")
    log = entries(admin, "--object", "participant:%d" % member.user["id"])
    assert log == [], "a member's own changes are not audited: %s" % log
    # An admin's edit of that profile is, without its private attributes.
    admin.ok("profile", "edit", "--program", str(pid), "--user", str(member.user["id"]),
             "--department", "Research")
    log = entries(admin, "--object", "participant:%d" % member.user["id"])
    assert [e["action"] for e in log] == ["profile_update"]
    text = str(log)
    assert "they/them" not in text and "pronouns" not in text
    assert log[0]["before"]["department"] == "" and log[0]["after"]["department"] == "Research"
    assert log[0]["before"]["profile_digest"] != log[0]["after"]["profile_digest"]


def test_only_admins_read_it_and_nobody_rewrites_it(server, admin):
    coord = server.make_user(admin, role="coordinator")
    coord.client.fail("audit", "list", code="PERMISSION_DENIED")
    # Org B's admin sees nothing of org A's log.
    slug = harness.unique("audb")
    rep = admin.ok("org", "create", "--slug", slug, "--name", "Audit B",
                   "--admin-email", "boss@%s.test" % slug)
    b = server.client()
    cp = b.ctl("invite", "accept", rep["invite_code"], "--password-stdin",
               input="org b password 1\n")
    assert cp.returncode == 0, harness.describe(cp, "accept")
    assert entries(b) == []
    # The runtime role may add entries but never change or remove them.
    for sql in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log",
                "TRUNCATE audit_log"):
        cp = psql(server, sql)
        assert cp.returncode != 0 and "permission denied" in cp.stderr, (sql, cp.stderr)


def test_every_admin_action_leaves_an_entry(server, admin, tmp_path):
    """One entry (at least) per admin action kind, named by the request."""
    person = server.make_user(admin)
    uid = str(person.user["id"])
    prog = admin.ok("program", "create", "--name", harness.unique("Every"))
    pid = str(prog["id"] if "id" in prog else prog["program"]["id"])
    steps = [
        ("program_transition", ["program", "transition", pid, "enrolling"]),
        ("participant_enroll", ["participant", "enroll", "--program", pid, "--user", uid,
                                "--role", "mentee"]),
        ("participant_withdraw", ["participant", "withdraw", "--program", pid, "--user", uid]),
        ("user_reset_password", ["user", "reset-password", uid]),
        ("user_deactivate", ["user", "deactivate", uid]),
    ]
    for action, args in steps:
        admin.ok(*args)
        assert entries(admin, "--limit", "5")[0]["action"] == action, (action, args)
    csv = tmp_path / "p.csv"
    mail = "%s@acme.test" % harness.unique("imp")
    csv.write_text("email,role,department\n%s,mentor,Lab\n" % mail)
    admin.ok("import", "participants", "--program", pid, str(csv))
    log = entries(admin, "--limit", "5")
    assert {"participant_import"} <= {e["action"] for e in log}
    assert any(e["object_kind"] == "participant" and e["after"]["department"] == "Lab"
               for e in log)
    directory = tmp_path / "d.csv"
    directory.write_text("employee_id,email,status,title\nE-%s,%s,active,Engineer\n"
                         % (harness.unique("e"), mail))
    admin.ok("import", "users", str(directory))
    log = entries(admin, "--limit", "3")
    assert log[0]["action"] == "user_import" and log[0]["after"]["title"] == "Engineer"
