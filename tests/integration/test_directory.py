"""Directory sync: `mentorctl import users` brings the users of an
organization in line with an HR directory file, against a live mentord.

Covered: the sample file of docs/ (users created with invitation codes in a
0600 file, managers found in the same file, UTF-8 names and a quoted cell
holding a comma, a terminated person never created, one on leave), what
`user show` and `user list` then display; importing the same file again
changes nothing; a new e-mail for a known employee id; a user found by
e-mail taking the employee id; a terminated user deactivated, their session
ended at once; leave; problems the server finds (a manager nobody knows, a
repeated employee id, cells it refuses) and those mentorctl finds (the
header, the status word, required cells), each as `row N, column C:
message`, once, with nothing written; --skip-invalid; --dry-run (what
would change, counted, and the exit status of the real run); the --json
document; invitation codes kept off stdout with --invites; a file sent in
several batches; and that only admins may import.

All tests share one server per module; every test uses employee ids and
e-mail addresses of its own (only the sample file has fixed ones, and only
one test imports it).
"""

import csv
import os
import re
import stat
import types
from datetime import timedelta

import pytest

import harness
from harness import now_utc, parse_time

SAMPLE = os.path.join(harness.SOURCE_DIR, "docs", "directory-sample.csv")

HEADER = ["employee_id", "email", "name", "department", "title", "manager_employee_id", "status"]

PROBLEM_LINE = re.compile(r"^row (\d+)(?:, column ([^:]*))?: (.+)$")

SUMMARY_KEYS = ("users_created", "updated", "unchanged", "deactivated", "on_leave", "skipped")


# ---------------------------------------------------------------------------
# Helpers


def unwrap(doc, key):
    return doc[key] if isinstance(doc, dict) and isinstance(doc.get(key), dict) else doc


def listing(doc, key):
    return doc if isinstance(doc, list) else doc[key]


def employee(prefix="d"):
    """A fresh (employee id, e-mail) pair."""
    tag = harness.unique(prefix)
    return tag.upper(), "%s@directory.test" % tag


def row(eid, email, name="", department="", title="", manager="", status="active"):
    return [eid, email, name, department, title, manager, status]


def directory_file(path, rows, header=HEADER):
    """A directory file, quoted as spreadsheets quote (only when needed)."""
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
    return str(path)


def problems(stderr):
    """The `row N, column C: message` lines of stderr as (row, column,
    message) tuples, in the order printed."""
    found = []
    for line in stderr.splitlines():
        m = PROBLEM_LINE.match(line)
        if m:
            found.append((int(m.group(1)), m.group(2) or "", m.group(3)))
    return found


def run_import(client, path, *options, rc=0, json=True):
    """Run `import users` and require exit `rc`. Returns the parsed --json
    document (None without --json), the problems printed on stderr and the
    CompletedProcess."""
    cp = client.ctl("import", "users", path, *options, json=json)
    assert cp.returncode == rc, harness.describe(cp, "expected exit %d" % rc)
    doc = harness.parse_json(cp) if json and cp.stdout.strip() else None
    return types.SimpleNamespace(doc=doc, problems=problems(cp.stderr), cp=cp)


def expect_counts(doc, **want):
    got = {k: doc[k] for k in SUMMARY_KEYS}
    assert got == dict({k: 0 for k in SUMMARY_KEYS}, **want), doc


def summary(stdout):
    """The key/value summary printed without --json."""
    return dict(re.findall(r"^([a-z ]+):\s+(\S.*?)\s*$", stdout, re.M))


def users(admin):
    """Every user of the organization (deactivated ones too) by e-mail."""
    return {u["email"]: u for u in listing(admin.ok("user", "list", "--all"), "users")}


def show(client, email):
    return unwrap(client.ok("user", "show", "--email", email), "user")


def read_invites(path):
    with open(path, "r", encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    assert lines[0] == "email,code,expires_at", lines
    return {e: (code, exp) for e, code, exp in (line.split(",") for line in lines[1:])}


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def admin(server):
    """Overrides conftest's: one admin client for the whole module."""
    return server.login_admin()


# ---------------------------------------------------------------------------
# The sample file


SAMPLE_PEOPLE = {
    # email: (employee id, name, department, title, manager's id, status)
    "maria.lopez@example.com": ("E1001", "María López", "Executive", "Chief Executive Officer",
                                "", "active"),
    "kenji.sato@example.com": ("E1002", "佐藤 健二", "Engineering", "VP Engineering", "E1001",
                               "active"),
    "ana.garcia@example.com": ("E1003", "Ana García", "Engineering, Platform",
                               "Engineering Manager", "E1002", "active"),
    "zoe.muller@example.com": ("E1004", "Zoë Müller", "Engineering, Platform",
                               "Software Engineer", "E1003", "active"),
    "omar.haddad@example.com": ("E1005", "Haddad, Omar", "Engineering, Platform",
                                "Site Reliability Engineer", "E1003", "leave"),
    "priya.nair@example.com": ("E1006", "Priya Nair", "Sales", "Head of Sales", "E1001",
                               "active"),
    "sam.oneil@example.com": ("E1007", "Sam O'Neil", "Sales", "Account Executive", "E1006",
                              "terminated"),
    "li.wei@example.com": ("E1008", "李伟", "Sales", "Sales Engineer", "E1006", "active"),
}


def test_sample_file(server, admin, tmp_path):
    invites = str(tmp_path / "invites.csv")
    cp = admin.ctl("import", "users", SAMPLE, "--invites", invites)
    assert cp.returncode == 0, harness.describe(cp, "import of the sample")
    # The terminated person is not created; the one on leave is, and counts
    # as now on leave.
    assert summary(cp.stdout) == {
        "rows": "8", "users created": "7", "updated": "0", "unchanged": "1",
        "deactivated": "0", "on leave": "1", "skipped": "0", "applied": "yes"}, cp.stdout
    assert problems(cp.stderr) == []

    created = sorted(e for e, p in SAMPLE_PEOPLE.items() if p[5] != "terminated")
    assert mode_of(invites) == 0o600
    codes = read_invites(invites)
    assert sorted(codes) == created
    for code, expires in codes.values():
        assert code and code not in cp.stdout
        left = parse_time(expires) - now_utc()
        assert timedelta(days=6, hours=23) < left <= timedelta(days=7, minutes=1), expires

    everyone = users(admin)
    assert "sam.oneil@example.com" not in everyone
    by_employee = {everyone[e]["employee_id"]: everyone[e]["id"] for e in created}
    for e in created:
        eid, name, department, title, manager, status = SAMPLE_PEOPLE[e]
        u = everyone[e]
        assert (u["employee_id"], u["display_name"], u["department"], u["title"]) == (
            eid, name, department, title), u
        assert u["manager_id"] == (by_employee[manager] if manager else 0), u
        assert u["employment"] == status, u
        assert (u["role"], u["active"], u["invite_pending"]) == ("member", True, True), u

    # Shown by `user show` as people read it.
    zoe = admin.ctl("user", "show", "--email", "zoe.muller@example.com")
    assert zoe.returncode == 0, harness.describe(zoe, "user show")
    shown = summary(zoe.stdout)
    assert shown["employee id"] == "E1004"
    assert shown["department"] == "Engineering, Platform"
    assert shown["title"] == "Software Engineer"
    assert shown["manager"] == str(by_employee["E1003"])
    assert shown["employment"] == "active"
    assert zoe.stdout.count("Zoë Müller") == 1
    omar = summary(admin.ctl("user", "show", "--email", "omar.haddad@example.com").stdout)
    assert omar["employment"] == "leave"
    maria = summary(admin.ctl("user", "show", "--email", "maria.lopez@example.com").stdout)
    assert "manager" not in maria and maria["title"] == "Chief Executive Officer"
    # The first admin was never synced: no directory lines at all.
    me = summary(admin.ctl("user", "show", "--email", harness.ADMIN_EMAIL).stdout)
    assert not {"employee id", "department", "title", "manager", "employment"} & set(me)

    # `user list` grows the directory's columns.
    table = admin.ctl("user", "list")
    assert table.returncode == 0, harness.describe(table, "user list")
    head = table.stdout.splitlines()[0].split()
    assert head == ["ID", "EMAIL", "NAME", "ROLE", "STATUS", "EMPLOYEE", "DEPARTMENT", "TITLE",
                    "MANAGER", "EMPLOYMENT"], table.stdout
    omar_line = [l for l in table.stdout.splitlines() if "omar.haddad@example.com" in l]
    assert len(omar_line) == 1 and "E1005" in omar_line[0] and "leave" in omar_line[0]

    # The same file again changes nothing and creates no invitations.
    again = run_import(admin, SAMPLE)
    expect_counts(again.doc, unchanged=8)
    assert again.doc["applied"] is True and again.doc["invites"] == []
    assert users(admin) == everyone


# ---------------------------------------------------------------------------
# Matching users


def test_new_email_for_a_known_employee(admin, tmp_path):
    eid, old = employee()
    _, new = employee()
    path = directory_file(tmp_path / "a.csv", [row(eid, old, "Pat Doe", "Ops", "Analyst")])
    first = run_import(admin, path)
    expect_counts(first.doc, users_created=1)
    assert [i["email"] for i in first.doc["invites"]] == [old]
    uid = show(admin, old)["id"]

    path = directory_file(tmp_path / "b.csv", [row(eid, new, "Pat Doe", "Ops", "Analyst")])
    second = run_import(admin, path)
    expect_counts(second.doc, updated=1)
    assert second.doc["invites"] == []
    u = show(admin, new)
    assert (u["id"], u["email"], u["employee_id"]) == (uid, new, eid)
    assert old not in users(admin)


def test_user_found_by_email_takes_the_employee_id(server, admin, tmp_path):
    person = server.make_user(admin, name="Kim Existing")
    assert show(admin, person.email)["employee_id"] == ""
    eid, _ = employee()
    path = directory_file(tmp_path / "d.csv",
                          [row(eid, person.email, "Kim Synced", "Finance", "Controller")])
    res = run_import(admin, path)
    expect_counts(res.doc, updated=1)
    assert res.doc["invites"] == []
    u = show(admin, person.email)
    assert (u["id"], u["employee_id"], u["display_name"], u["department"], u["title"]) == (
        person.id, eid, "Kim Synced", "Finance", "Controller")
    assert u["active"] is True and u["employment"] == "active"
    # Still the same person, still logged in.
    assert person.client.whoami()["user"]["id"] == person.id
    # From now on the employee id is what matches: a new e-mail follows it.
    _, new = employee()
    path = directory_file(tmp_path / "e.csv",
                          [row(eid, new, "Kim Synced", "Finance", "Controller")])
    expect_counts(run_import(admin, path).doc, updated=1)
    assert show(admin, new)["id"] == person.id


def test_terminated_user_is_deactivated_and_logged_out(server, admin, tmp_path):
    person = server.make_user(admin)
    assert person.client.whoami()["user"]["email"] == person.email
    eid, _ = employee()
    path = directory_file(tmp_path / "t.csv", [row(eid, person.email, status="terminated")])
    res = run_import(admin, path)
    expect_counts(res.doc, updated=1, deactivated=1)
    u = users(admin)[person.email]
    assert (u["active"], u["employment"], u["employee_id"]) == (False, "terminated", eid)
    # The session they had ends at once.
    person.client.fail("whoami", code="UNAUTHENTICATED")
    cp = person.client.ctl("login", "--org", person.org, "--email", person.email,
                           "--password-stdin", input=person.password + "\n")
    assert cp.returncode == 1, harness.describe(cp, "a terminated user cannot log in")
    # Terminated again: nothing more to do.
    expect_counts(run_import(admin, path).doc, unchanged=1)
    # A terminated person who never was a user is not created.
    eid2, gone = employee()
    path = directory_file(tmp_path / "t2.csv", [row(eid2, gone, status="Terminated")])
    res = run_import(admin, path)
    expect_counts(res.doc, unchanged=1)
    assert res.doc["invites"] == [] and gone not in users(admin)


def test_leave(server, admin, tmp_path):
    person = server.make_user(admin)
    eid, _ = employee()
    path = directory_file(tmp_path / "l.csv", [row(eid, person.email, status="on leave")])
    res = run_import(admin, path)
    expect_counts(res.doc, updated=1, on_leave=1)
    u = show(admin, person.email)
    assert (u["employment"], u["active"]) == ("leave", True)
    plain = summary(admin.ctl("user", "show", "--email", person.email).stdout)
    assert plain["employment"] == "leave" and plain["employee id"] == eid
    # On leave, not gone: the session still works.
    assert person.client.whoami()["user"]["id"] == person.id
    # Back to work.
    path = directory_file(tmp_path / "back.csv", [row(eid, person.email, status="ACTIVE")])
    expect_counts(run_import(admin, path).doc, updated=1)
    assert show(admin, person.email)["employment"] == "active"


def test_managers_in_the_file_and_in_the_directory(admin, tmp_path):
    boss_id, boss = employee("boss")
    a_id, a = employee()
    path = directory_file(tmp_path / "m1.csv", [
        # The report comes before the manager: the whole file counts.
        row(a_id, a, "Report One", manager=boss_id),
        row(boss_id, boss, "The Boss"),
    ])
    expect_counts(run_import(admin, path).doc, users_created=2)
    assert show(admin, a)["manager_id"] == show(admin, boss)["id"]
    # A later file may name a manager who is only in the directory.
    b_id, b = employee()
    path = directory_file(tmp_path / "m2.csv", [row(b_id, b, manager=boss_id)])
    expect_counts(run_import(admin, path).doc, users_created=1)
    assert show(admin, b)["manager_id"] == show(admin, boss)["id"]


# ---------------------------------------------------------------------------
# Problems


def test_unknown_manager_refuses_the_file(admin, tmp_path):
    ok1, ok2, bad = employee(), employee(), employee()
    path = directory_file(tmp_path / "u.csv", [
        row(*ok1),
        row(bad[0], bad[1], manager="NOBODY-" + bad[0]),
        row(*ok2),
    ])
    before = users(admin)
    res = run_import(admin, path, rc=1, json=False)
    assert [(r, c) for r, c, _ in res.problems] == [(3, "manager_employee_id")], res.cp.stderr
    assert "NOBODY-" + bad[0] in res.problems[0][2]
    assert summary(res.cp.stdout)["applied"] == "no"
    assert users(admin) == before
    # The same with --json: one document, nothing applied.
    res = run_import(admin, path, rc=1)
    assert res.doc["applied"] is False and res.doc["invites"] == []
    assert [(i["row"], i["column"]) for i in res.doc["issues"]] == [(3, "manager_employee_id")]
    assert users(admin) == before


def test_duplicate_employee_id(admin, tmp_path):
    eid, first = employee()
    _, second = employee()
    path = directory_file(tmp_path / "dup.csv", [
        row(eid, first), row(*employee()), row(eid, second)])
    before = users(admin)
    res = run_import(admin, path, rc=1)
    assert [(r, c) for r, c, _ in res.problems] == [(4, "employee_id")], res.cp.stderr
    assert "duplicate" in res.problems[0][2]
    assert res.doc["applied"] is False
    assert users(admin) == before


def test_problems_mentorctl_finds(admin, tmp_path):
    good = employee()
    path = directory_file(tmp_path / "c.csv", [
        row(*good),
        row("", "", "No Id"),                       # row 3: both required cells
        row(*employee(), status="retired"),         # row 4: not a status
        row("X" * 65, employee()[1]),               # row 5: employee id too long
    ])
    before = users(admin)
    res = run_import(admin, path, rc=1, json=False)
    assert [(r, c) for r, c, _ in res.problems] == [
        (3, "employee_id"), (3, "email"), (4, "status"), (5, "employee_id")], res.cp.stderr
    assert "expected active, leave or terminated" in res.problems[2][2]
    assert "nothing was imported: 3 rows with problems" in res.cp.stderr
    assert users(admin) == before


def test_row_problems_the_server_finds_are_reported_once(admin, tmp_path):
    path = directory_file(tmp_path / "srv.csv", [
        row(*employee()),
        row(employee()[0], "not-an-email"),
        row(*employee(), title="two\nlines"),
    ])
    before = users(admin)
    res = run_import(admin, path, rc=1)
    assert [(r, c) for r, c, _ in res.problems] == [(3, "email"), (4, "title")], res.cp.stderr
    assert [(i["row"], i["column"]) for i in res.doc["issues"]] == [(3, "email"), (4, "title")]
    assert res.doc["applied"] is False
    assert users(admin) == before


@pytest.mark.parametrize("header,column,words", [
    (["employee_id", "email", "status", "colour"], "colour", "unknown column"),
    (["employee_id", "emial", "email", "status"], "emial", "did you mean 'email'"),
    (["employee_id", "email", "status", "title", "title"], "title", "twice"),
    (["employee_id", "email", "name"], "status", "required column missing"),
    (["email", "status"], "employee_id", "required column missing"),
])
def test_header_problems(admin, tmp_path, header, column, words):
    path = tmp_path / "h.csv"
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(header) + "\n")
    res = run_import(admin, str(path), rc=1)
    assert [(r, c) for r, c, _ in res.problems] == [(1, column)], res.cp.stderr
    assert words in res.problems[0][2]
    assert res.doc == {"applied": False, "dry_run": False, "issues": [
        {"row": 1, "column": column, "message": res.problems[0][2]}]}


def test_skip_invalid(admin, tmp_path):
    good1, good2, bad_manager = employee(), employee(), employee()
    path = directory_file(tmp_path / "s.csv", [
        row(*good1, "Good One"),
        row(*bad_manager, manager="NOBODY-" + bad_manager[0]),  # the server refuses it
        row(*employee(), status="fired"),                       # mentorctl refuses it
        row(*good2, "Good Two", status="leave"),
    ])
    invites = str(tmp_path / "codes.csv")
    res = run_import(admin, path, "--skip-invalid", "--invites", invites)
    assert [(r, c) for r, c, _ in res.problems] == [
        (3, "manager_employee_id"), (4, "status")], res.cp.stderr
    assert res.doc["applied"] is True
    expect_counts(res.doc, users_created=2, on_leave=1, skipped=2)
    everyone = users(admin)
    assert show(admin, good1[1])["display_name"] == "Good One"
    assert show(admin, good2[1])["employment"] == "leave"
    assert bad_manager[1] not in everyone
    codes = read_invites(invites)
    assert sorted(codes) == sorted([good1[1], good2[1]])
    assert mode_of(invites) == 0o600
    # The --json document says where the codes went, and holds none.
    assert "invites" not in res.doc
    assert (res.doc["invites_file"], res.doc["invites_written"]) == (invites, 2)
    for code, _ in codes.values():
        assert code not in res.cp.stdout and code not in res.cp.stderr


def test_dry_run(admin, tmp_path):
    a, b = employee(), employee()
    path = directory_file(tmp_path / "dry.csv", [row(*a), row(*b, status="leave")])
    before = users(admin)
    res = run_import(admin, path, "--dry-run")
    assert res.doc["applied"] is False and res.doc["dry_run"] is True
    # What would change is counted all the same.
    expect_counts(res.doc, users_created=2, on_leave=1)
    assert res.doc["invites"] == [] and res.doc["issues"] == []
    assert users(admin) == before
    plain = run_import(admin, path, "--dry-run", json=False)
    assert plain.cp.stdout.startswith("dry run: nothing was written"), plain.cp.stdout
    shown = summary(plain.cp.stdout)
    assert (shown["users created"], shown["on leave"], shown["applied"]) == (
        "2", "1", "no (dry run)"), plain.cp.stdout
    assert "Invitation codes" not in plain.cp.stdout
    # With a problem: reported, exit 1 (the real run would import
    # nothing, so nothing is counted), still nothing written.
    path = directory_file(tmp_path / "dry2.csv", [row(*a), row(*b, manager="NOBODY-X")])
    res = run_import(admin, path, "--dry-run", rc=1)
    assert [(r, c) for r, c, _ in res.problems] == [(3, "manager_employee_id")]
    expect_counts(res.doc)
    assert "nothing would be imported: 1 row with problems" in res.cp.stderr
    assert users(admin) == before
    # With --skip-invalid the other row would be imported: exit 0, the
    # problem listed and counted as skipped.
    res = run_import(admin, path, "--dry-run", "--skip-invalid")
    assert [(r, c) for r, c, _ in res.problems] == [(3, "manager_employee_id")]
    expect_counts(res.doc, users_created=1, skipped=1)
    assert res.doc["applied"] is False and res.doc["dry_run"] is True
    assert users(admin) == before
    # And the file is then imported for real.
    path = directory_file(tmp_path / "real.csv", [row(*a), row(*b, status="leave")])
    expect_counts(run_import(admin, path).doc, users_created=2, on_leave=1)


def test_json_document(admin, tmp_path):
    a = employee()
    path = directory_file(tmp_path / "j.csv", [row(*a, "Jay Son", "R&D", "Intern")])
    res = run_import(admin, path)
    assert set(res.doc) == {"applied", "dry_run", "rows", "users_created", "updated",
                            "unchanged", "deactivated", "on_leave", "skipped", "issues",
                            "invites"}, res.doc
    assert (res.doc["applied"], res.doc["dry_run"], res.doc["rows"]) == (True, False, 1)
    [invite] = res.doc["invites"]
    assert invite["email"] == a[1] and invite["code"]
    parse_time(invite["expires_at"])
    u = show(admin, a[1])
    for key in ("employee_id", "department", "title", "manager_id", "employment"):
        assert key in u, u
    assert (u["employee_id"], u["department"], u["title"], u["manager_id"]) == (
        a[0], "R&D", "Intern", 0)


def test_invites_printed_without_a_file(admin, tmp_path):
    a = employee()
    path = directory_file(tmp_path / "p.csv", [row(*a)])
    res = run_import(admin, path, json=False)
    assert "Invitation codes" in res.cp.stdout and a[1] in res.cp.stdout


def test_invites_file_keeps_codes_off_stdout(admin, tmp_path):
    a, b = employee(), employee()
    # As a table.
    path = directory_file(tmp_path / "a.csv", [row(*a)])
    invites = str(tmp_path / "a-codes.csv")
    res = run_import(admin, path, "--invites", invites, json=False)
    [(code, _)] = read_invites(invites).values()
    assert code not in res.cp.stdout and code not in res.cp.stderr
    assert "Invitation codes" not in res.cp.stdout
    assert re.search(r"^1 invitation code written to %s$" % re.escape(invites), res.cp.stdout,
                     re.M), res.cp.stdout
    # As JSON.
    path = directory_file(tmp_path / "b.csv", [row(*b)])
    invites = str(tmp_path / "b-codes.csv")
    res = run_import(admin, path, "--invites", invites)
    [(code, _)] = read_invites(invites).values()
    assert code not in res.cp.stdout and code not in res.cp.stderr
    assert "invites" not in res.doc
    assert (res.doc["invites_file"], res.doc["invites_written"]) == (invites, 1)
    assert mode_of(invites) == 0o600
    # Nothing to write (the same file again): the file is left alone.
    again = str(tmp_path / "again-codes.csv")
    res = run_import(admin, path, "--invites", again)
    expect_counts(res.doc, unchanged=1)
    assert res.doc["invites_written"] == 0 and not os.path.exists(again)


def test_many_batches(admin, tmp_path):
    people = [employee("bulk") for _ in range(1201)]
    rows = [row(people[0][0], people[0][1], "Top")]
    rows += [row(eid, mail, manager=people[0][0]) for eid, mail in people[1:]]
    path = directory_file(tmp_path / "bulk.csv", rows)
    invites = str(tmp_path / "bulk-codes.csv")
    res = run_import(admin, path, "--invites", invites)
    expect_counts(res.doc, users_created=1201)
    assert res.doc["rows"] == 1201
    # Past 1000 rows, progress on stderr (plain lines: it is not a
    # terminal), in rows sent: nothing is written before the end.
    assert re.findall(r"^sent (\d+) rows$", res.cp.stderr, re.M) == ["1201"], res.cp.stderr
    assert len(read_invites(invites)) == 1201
    last = show(admin, people[-1][1])
    assert last["manager_id"] == show(admin, people[0][1])["id"]


# ---------------------------------------------------------------------------
# Who may import


def test_only_admins_may_import(server, admin, tmp_path):
    a = employee()
    path = directory_file(tmp_path / "who.csv", [row(*a)])
    for role in ("coordinator", "member"):
        person = server.make_user(admin, role=role)
        person.client.fail("import", "users", path, code="PERMISSION_DENIED")
        person.client.fail("import", "users", path, "--dry-run", code="PERMISSION_DENIED")
    assert a[1] not in users(admin)
