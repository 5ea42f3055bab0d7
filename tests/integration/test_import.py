"""Participants files: `mentorctl import participants` and `export
participants` against a live mentord.

Covered: the sample file of docs/ (users created with invitation codes
written to a 0600 file and usable, managers found in the same file, quotes,
embedded commas and UTF-8 names, every profile field read back); the CSV
itself (byte order mark, CRLF, line breaks inside quotes and the row numbers
that follow, any column order, unknown and missing columns, duplicate
e-mails, oversized cells, invalid UTF-8, an unterminated quote); problems
the server finds, each reported as `row N, column C: message`, rows too
large for any request among them; all or nothing, --skip-invalid and
--dry-run (with the counts of what would happen); the columns a file has
(fields it leaves out keep their stored values, empty cells clear them);
invitation codes kept off stdout with --invites; importing the same file
twice; export then import; files streamed in many batches, by rows and by
size; who may import; and re-enrolling a participant who had withdrawn.

All tests share one server per module; every test makes its own programs
and uses e-mail addresses of its own (only the sample file has fixed ones,
and only one test imports it).
"""

import json
import os
import re
import stat
import types
from datetime import timedelta

import pytest

import harness
from harness import now_utc, parse_time

SAMPLE = os.path.join(harness.SOURCE_DIR, "docs", "participants-sample.csv")

# The columns in the order export writes them.
EXPORT_COLUMNS = [
    "email", "display_name", "role", "skills_offered", "skills_wanted", "career_goals",
    "interests", "department", "seniority_level", "seniority_years", "time_zone", "languages",
    "availability", "manager_email", "capacity",
]

# The largest cell the client's CSV reader accepts.
MAX_CELL = 1024 * 1024

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

LIFECYCLE = ["draft", "enrolling", "matching", "active", "closed"]

PROBLEM_LINE = re.compile(r"^row (\d+)(?:, column ([^:]*))?: (.+)$")


# ---------------------------------------------------------------------------
# Helpers


def unwrap(doc, key):
    return doc[key] if isinstance(doc, dict) and isinstance(doc.get(key), dict) else doc


def listing(doc, key):
    return doc if isinstance(doc, list) else doc[key]


def email(prefix="p"):
    """A fresh e-mail address for a participant the import creates."""
    return "%s@import.test" % harness.unique(prefix)


def slots(spec):
    """The hour-of-week slots of an availability spec such as
    "mon-fri:9-17,sat:10-12" (slot = day * 24 + hour)."""
    out = set()
    for item in spec.split(","):
        days, hours = item.split(":")
        first, _, last = days.partition("-")
        start, end = (int(h) for h in hours.split("-"))
        for d in range(DAYS.index(first), DAYS.index(last or first) + 1):
            out.update(d * 24 + h for h in range(start, end))
    return sorted(out)


def write_file(path, content):
    """Write str content as UTF-8 (newlines as given) or bytes as they are."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def csv_file(path, header, rows, newline="\n"):
    """A participants file from a header and rows of already-quoted cells."""
    lines = [",".join(header)] + [",".join(str(c) for c in row) for row in rows]
    return write_file(path, newline.join(lines) + newline)


def problems(stderr):
    """The `row N, column C: message` lines of stderr as (row, column,
    message) tuples, in the order printed."""
    found = []
    for line in stderr.splitlines():
        m = PROBLEM_LINE.match(line)
        if m:
            found.append((int(m.group(1)), m.group(2) or "", m.group(3)))
    return found


def run_import(client, program, path, *options, rc=0):
    """Run `import participants --json` and require exit `rc`. Returns the
    parsed document, the problems printed on stderr and the
    CompletedProcess."""
    cp = client.ctl("import", "participants", "--program", program, path, *options, json=True)
    assert cp.returncode == rc, harness.describe(cp, "expected exit %d" % rc)
    return types.SimpleNamespace(doc=harness.parse_json(cp), problems=problems(cp.stderr), cp=cp)


def expect_counts(doc, users_created=0, enrolled=0, updated=0, unchanged=0, skipped=0):
    want = dict(users_created=users_created, enrolled=enrolled, updated=updated,
                unchanged=unchanged, skipped=skipped)
    assert {k: doc[k] for k in want} == want, doc


def new_program(admin, state="enrolling", coordinators=()):
    """A program with `coordinators` assigned, walked to `state`."""
    pid = int(unwrap(admin.ok("program", "create", "--name", harness.unique("Import")),
                     "program")["id"])
    for c in coordinators:
        admin.ok("program", "assign-coordinator", pid, "--user", c.id)
    for step in LIFECYCLE[1:LIFECYCLE.index(state) + 1]:
        admin.ok("program", "transition", pid, step)
    return pid


def export_file(client, program, path, *options):
    """Export to a file; mentorctl then prints nothing on stdout."""
    cp = client.ctl("export", "participants", "--program", program, *options, "--output", path)
    assert cp.returncode == 0 and cp.stdout == "", harness.describe(cp, "export to a file")
    return path


def participants(client, program, all=False):
    """The program's participants by e-mail."""
    args = ["participant", "list", "--program", program] + (["--all"] if all else [])
    return {p["email"]: p for p in listing(client.ok(*args), "participants")}


def profile(client, program, user_id):
    doc = unwrap(client.ok("profile", "show", "--program", program, "--user", user_id),
                 "participant")
    return doc.get("profile", doc)


def users(admin):
    """Every user of the organization (deactivated ones too) by e-mail."""
    return {u["email"]: u for u in listing(admin.ok("user", "list", "--all"), "users")}


def skills(prof, field):
    return [(s["name"], int(s["level"])) for s in prof[field]]


def read_invites(path):
    with open(path, "r", encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    assert lines[0] == "email,code,expires_at", lines
    return {e: (code, exp) for e, code, exp in (line.split(",") for line in lines[1:])}


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def snapshot(admin, program):
    """What an import may change: the program's participants (withdrawn
    ones too) and the organization's users."""
    return participants(admin, program, all=True), users(admin)


@pytest.fixture(scope="module")
def admin(server):
    """Overrides conftest's: one admin client for the whole module."""
    return server.login_admin()


# ---------------------------------------------------------------------------
# The sample file


def test_sample_file(server, admin, tmp_path):
    pid = new_program(admin)
    invites = str(tmp_path / "invites.csv")
    cp = admin.ctl("import", "participants", "--program", pid, SAMPLE, "--invites", invites)
    assert cp.returncode == 0, harness.describe(cp, "import of the sample")
    summary = dict(re.findall(r"^([a-z ]+):\s+(\S.*?)\s*$", cp.stdout, re.M))
    assert summary == {"rows": "5", "users created": "5", "enrolled": "5", "updated": "0",
                       "unchanged": "0", "skipped": "0", "applied": "yes"}, cp.stdout
    assert problems(cp.stderr) == []

    emails = ["ana.garcia@example.com", "zoe.muller@example.com", "li.wei@example.com",
              "omar.haddad@example.com", "sam.o'neil@example.com"]
    # The codes went to the file, readable by the user alone, not to stdout.
    assert mode_of(invites) == 0o600
    codes = read_invites(invites)
    assert sorted(codes) == sorted(emails)
    for code, expires in codes.values():
        assert code and code not in cp.stdout
        left = parse_time(expires) - now_utc()
        assert timedelta(days=6, hours=23) < left <= timedelta(days=7, minutes=1), expires

    everyone = users(admin)
    names = {"ana.garcia@example.com": "Ana García", "zoe.muller@example.com": "Zoë Müller",
             "li.wei@example.com": "李伟", "omar.haddad@example.com": "Haddad, Omar",
             "sam.o'neil@example.com": "Sam O'Neil"}
    for e, name in names.items():
        u = everyone[e]
        assert (u["display_name"], u["role"], u["active"], u["invite_pending"]) == (
            name, "member", True, True), u
    ids = {e: everyone[e]["id"] for e in emails}

    listed = participants(admin, pid)
    assert {e: (p["role"], p["status"], p["display_name"]) for e, p in listed.items()} == {
        "ana.garcia@example.com": ("mentor", "active", "Ana García"),
        "li.wei@example.com": ("mentor", "active", "李伟"),
        "zoe.muller@example.com": ("mentee", "active", "Zoë Müller"),
        "omar.haddad@example.com": ("mentee", "active", "Haddad, Omar"),
        "sam.o'neil@example.com": ("mentee", "active", "Sam O'Neil"),
    }
    prog = unwrap(admin.ok("program", "show", pid), "program")
    assert (prog["mentor_count"], prog["mentee_count"]) == (2, 3)

    zoe = profile(admin, pid, ids["zoe.muller@example.com"])
    assert skills(zoe, "skills_wanted") == [("python", 2), ("sql", 3)]
    assert skills(zoe, "skills_offered") == []
    assert zoe["career_goals"] == ["team lead"]
    assert zoe["interests"] == ["music", '"indie" games']
    assert zoe["department"] == "Platform"
    assert (zoe["seniority_level"], zoe["seniority_years"]) == (2, 1)
    assert zoe["time_zone"] == "Europe/Berlin"
    assert zoe["languages"] == ["de", "en"]
    assert zoe["availability"] == slots("mon-wed:10-12,thu:14-16")
    # Her manager is a row of the same file.
    assert zoe["manager_id"] == ids["ana.garcia@example.com"]

    li = profile(admin, pid, ids["li.wei@example.com"])
    assert skills(li, "skills_offered") == [("go", 4), ("kubernetes", 3)]
    assert li["department"] == "Research, Applied"
    assert li["languages"] == ["zh", "en"]
    assert li["availability"] == slots("mon-fri:8-10,sat:9-11")
    assert li["capacity"] == 2 and li["manager_id"] == 0
    omar = profile(admin, pid, ids["omar.haddad@example.com"])
    assert omar["manager_id"] == ids["li.wei@example.com"]
    assert omar["career_goals"] == ["architecture", "people management"]
    assert omar["languages"] == ["fr", "ar", "en"]
    ana = profile(admin, pid, ids["ana.garcia@example.com"])
    assert skills(ana, "skills_offered") == [("python", 5), ("distributed systems", 4)]
    assert (ana["capacity"], ana["time_zone"]) == (3, "Europe/Madrid")

    # An invitation code lets its person in, as the participant they are.
    zoe_client = server.client()
    code = codes["zoe.muller@example.com"][0]
    cp = zoe_client.ctl("invite", "accept", code, "--password-stdin",
                        input="zoe's own password\n")
    assert cp.returncode == 0, harness.describe(cp, "invite accept of an imported user")
    me = zoe_client.whoami()
    assert me["user"]["email"] == "zoe.muller@example.com"
    mine = unwrap(zoe_client.ok("participant", "show", "--program", pid), "participant")
    assert (mine["role"], mine["status"]) == ("mentee", "active")
    assert users(admin)["zoe.muller@example.com"]["invite_pending"] is False
    # Single use.
    again = server.client().ctl("invite", "accept", code, "--password-stdin",
                                input="another password\n")
    assert again.returncode == 1, harness.describe(again, "a used code must be refused")


# ---------------------------------------------------------------------------
# The CSV itself


def test_byte_order_mark_and_crlf(admin, tmp_path):
    pid = new_program(admin)
    a, b = email("bom"), email("crlf")
    text = "email,role,department\r\n%s,mentor,Finance\r\n%s,mentee,Legal\r\n" % (a, b)
    path = write_file(tmp_path / "bom.csv", b"\xef\xbb\xbf" + text.encode())
    r = run_import(admin, pid, path)
    assert r.doc["applied"] is True and r.problems == []
    expect_counts(r.doc, users_created=2, enrolled=2)
    listed = participants(admin, pid)
    # Neither the mark nor the carriage returns end up in a value.
    assert {e: (p["role"], p["profile"]["department"]) for e, p in listed.items()} == {
        a: ("mentor", "Finance"), b: ("mentee", "Legal")}


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_line_break_inside_quotes(admin, tmp_path, newline):
    pid = new_program(admin)
    a, b, c = email("nl"), email("nl"), email("nl")
    nl = newline
    text = nl.join([
        "email,role,department,time_zone",
        '%s,mentor,"first line%ssecond line%sthird line",' % (a, nl, nl),  # lines 2-4
        "%s,mentee,Ops,Nowhere/Special" % b,                              # line 5
        '"%s",mentee,"Ops, ""West""",UTC' % c,                           # line 6
    ]) + nl
    path = write_file(tmp_path / "multiline.csv", text)
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    # Rows are numbered by the line on which they start.
    assert [(row, col) for row, col, _ in r.problems] == [(2, "department"), (5, "time_zone")]
    assert "Nowhere/Special" in r.problems[1][2]
    assert r.doc["applied"] is False
    assert snapshot(admin, pid) == before

    # The reader went on correctly after the quoted line breaks: the last
    # row is whole.
    r = run_import(admin, pid, path, "--skip-invalid")
    expect_counts(r.doc, users_created=1, enrolled=1, skipped=2)
    listed = participants(admin, pid)
    assert list(listed) == [c]
    assert listed[c]["profile"]["department"] == 'Ops, "West"'


def test_columns_in_any_order(admin, tmp_path):
    pid = new_program(admin)
    a = email("order")
    path = csv_file(tmp_path / "order.csv",
                    ["capacity", "languages", "time_zone", "skills_offered", "role", "email",
                     "display_name", "seniority_years", "availability"],
                    [[4, "EN; fr", "America/Sao_Paulo", '"  Python :4; SQL:2;;"', "mentor", a,
                      "Ines Órfão", 0, '"sat:10-12,mon-fri:9-17"']])
    r = run_import(admin, pid, path)
    expect_counts(r.doc, users_created=1, enrolled=1)
    user = users(admin)[a]
    assert user["display_name"] == "Ines Órfão"
    prof = profile(admin, pid, user["id"])
    # Skills and languages come back normalized.
    assert skills(prof, "skills_offered") == [("python", 4), ("sql", 2)]
    assert prof["languages"] == ["en", "fr"]
    assert prof["time_zone"] == "America/Sao_Paulo"
    assert prof["capacity"] == 4
    assert prof["availability"] == slots("mon-fri:9-17,sat:10-12")

    # Export writes its own order, and reading that back changes nothing.
    out = export_file(admin, pid, str(tmp_path / "export.csv"), "--csv")
    with open(out, "r", encoding="utf-8") as f:
        assert f.readline().rstrip("\n").split(",") == EXPORT_COLUMNS
    expect_counts(run_import(admin, pid, out).doc, unchanged=1)


def test_unknown_column(admin, tmp_path):
    pid = new_program(admin)
    a = email("unk")
    path = csv_file(tmp_path / "unknown.csv", ["email", "role", "departmnet", "shoe_size"],
                    [[a, "mentor", "Finance", 42]])
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert [(row, col) for row, col, _ in r.problems] == [(1, "departmnet"), (1, "shoe_size")]
    assert "unknown column" in r.problems[0][2] and "'department'" in r.problems[0][2]
    assert "unknown column" in r.problems[1][2]
    assert r.doc["applied"] is False
    assert "nothing was imported" in r.cp.stderr
    assert snapshot(admin, pid) == before


@pytest.mark.parametrize("missing", ["email", "role"])
def test_missing_required_column(admin, tmp_path, missing):
    pid = new_program(admin)
    a = email("miss")
    header = [c for c in ("email", "role", "department") if c != missing]
    row = {"email": a, "role": "mentee", "department": "Finance"}
    path = csv_file(tmp_path / "missing.csv", header, [[row[c] for c in header]])
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert r.problems == [(1, missing, "required column missing")]
    assert snapshot(admin, pid) == before


def test_duplicate_email(admin, tmp_path):
    pid = new_program(admin)
    a, b = email("dup"), email("dup")
    path = csv_file(tmp_path / "dup.csv", ["email", "role"],
                    [[a, "mentor"], [b, "mentee"], [a.upper(), "mentee"]])
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert len(r.problems) == 1, r.cp.stderr
    row, col, msg = r.problems[0]
    # The message names both rows: the later one, and the first in its text.
    assert (row, col) == (4, "email")
    assert a in msg and "row 2" in msg, msg
    assert snapshot(admin, pid) == before


def test_cell_larger_than_the_limit(admin, tmp_path):
    pid = new_program(admin)
    a, b = email("big"), email("big")
    path = csv_file(tmp_path / "huge.csv", ["email", "role", "department"],
                    [[a, "mentor", "Finance"], [b, "mentor", "x" * (MAX_CELL + 1)]])
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert r.problems == [(3, "department", "cell larger than %d bytes" % MAX_CELL)]
    assert snapshot(admin, pid) == before
    # The server is fine.
    assert admin.whoami()["user"]["email"] == harness.ADMIN_EMAIL


def test_cell_at_the_limit(admin, tmp_path):
    # The reader takes a cell of exactly the limit, but no such row can be
    # sent: it must be reported as a problem of its row like any other.
    pid = new_program(admin)
    a, b = email("limit"), email("limit")
    path = csv_file(tmp_path / "limit.csv", ["email", "role", "career_goals"],
                    [["x" * MAX_CELL, "mentor", ""], [a, "mentee", "z" * (MAX_CELL - 10)],
                     [b, "mentor", "staff engineer"]])
    before = snapshot(admin, pid)
    # Exit 1 like any problem of a row, not 3: the connection is fine.
    r = run_import(admin, pid, path, rc=1)
    assert [(row, col) for row, col, _ in r.problems] == [(2, "email"), (3, "career_goals")], \
        r.cp.stderr
    assert "the cell is too large (%d bytes" % MAX_CELL in r.problems[0][2]
    assert "the cell is too large (%d bytes" % (MAX_CELL - 10) in r.problems[1][2]
    assert r.doc["applied"] is False
    expect_counts(r.doc)
    assert snapshot(admin, pid) == before

    r = run_import(admin, pid, path, "--skip-invalid")
    expect_counts(r.doc, users_created=1, enrolled=1, skipped=2)
    assert list(participants(admin, pid)) == [b]


def test_invalid_utf8(admin, tmp_path):
    pid = new_program(admin)
    a, b = email("utf"), email("utf")
    data = ("email,role,department\n%s,mentor,Finance\n%s,mentee,Caf" % (a, b)).encode()
    path = write_file(tmp_path / "latin1.csv", data + b"\xe9\n")
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert len(r.problems) == 1, r.cp.stderr
    row, col, msg = r.problems[0]
    assert (row, col) == (3, "department") and "invalid UTF-8" in msg
    assert "nothing was imported" in r.cp.stderr
    assert snapshot(admin, pid) == before


def test_unterminated_quote(admin, tmp_path):
    pid = new_program(admin)
    a, b, c = email("quote"), email("quote"), email("quote")
    text = 'email,role,department\n%s,mentor,Finance\n%s,mentee,"Legal\n%s,mentor,Ops\n' % (
        a, b, c)
    path = write_file(tmp_path / "open-quote.csv", text)
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert len(r.problems) == 1, r.cp.stderr
    row, col, msg = r.problems[0]
    assert (row, col) == (3, "department") and "not closed" in msg
    assert snapshot(admin, pid) == before


# ---------------------------------------------------------------------------
# Problems with rows (the server finds most)


def deactivated_user(server, admin):
    person = server.make_user(admin)
    admin.ok("user", "deactivate", person.id)
    return person.email


# (what, the bad row's cells other than the defaults (or a function of the
# server, the admin and the row's own e-mail giving them), the column
# named, words of the message)
BAD_ROWS = [
    ("bad time zone", dict(time_zone="Mars/Olympus"), "time_zone", "Mars/Olympus"),
    ("skill level 7", dict(skills_offered="go:7"), "skills_offered", "level 7"),
    ("unknown manager", dict(manager_email="nobody-here@import.test"), "manager_email",
     "nobody-here@import.test"),
    ("capacity 0", dict(capacity="0"), "capacity", "capacity"),
    ("capacity 11", dict(capacity="11"), "capacity", "11"),
    ("bad role", dict(role="boss"), "role", "boss"),
    ("invalid e-mail", dict(email="not-an-email"), "email", "not-an-email"),
    ("deactivated user", lambda server, admin, own: dict(email=deactivated_user(server, admin)),
     "email", "deactivated"),
    ("own manager", lambda server, admin, own: dict(manager_email=own), "manager_email",
     "own manager"),
]
BAD_COLUMNS = ["email", "role", "time_zone", "skills_offered", "manager_email", "capacity"]


def bad_file(server, admin, path, bad, good_before, good_after):
    """A file with a good row, the bad row (row 3), and another good row
    whose manager is the first."""
    cells = dict(email=email("bad"), role="mentee")
    cells.update(bad(server, admin, cells["email"]) if callable(bad) else bad)
    rows = [[good_before, "mentor", "", "", "", ""],
            [cells.get(c, "") for c in BAD_COLUMNS],
            [good_after, "mentee", "Europe/Lisbon", "", good_before, ""]]
    return csv_file(path, BAD_COLUMNS, rows)


@pytest.mark.parametrize("what,bad,column,words", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_invalid_row(server, admin, tmp_path, what, bad, column, words):
    pid = new_program(admin)
    a, b = email("good"), email("good")
    path = bad_file(server, admin, tmp_path / "bad.csv", bad, a, b)
    before = snapshot(admin, pid)
    cp = admin.ctl("import", "participants", "--program", pid, path)
    assert cp.returncode == 1, harness.describe(cp, "%s: expected exit 1" % what)
    found = problems(cp.stderr)
    assert [(row, col) for row, col, _ in found] == [(3, column)], harness.describe(
        cp, "%s: expected one problem, in row 3, column %s" % (what, column))
    assert words in found[0][2], found
    assert re.search(r"^applied:\s+no$", cp.stdout, re.M), cp.stdout
    assert snapshot(admin, pid) == before


def test_every_problem_reported_once_in_row_order(admin, tmp_path):
    pid = new_program(admin)
    good = email("good")
    header = ["email", "role", "time_zone", "skills_offered", "capacity", "seniority_level",
              "availability"]
    rows = [
        [email("v"), "mentor", "Atlantis/Lost", "", "", "", ""],             # 2
        [good, "mentee", "", "", "", "", ""],                                # 3
        ["@nope", "mentee", "", "", "", "", ""],                             # 4
        [email("v"), "mentor", "", "python", "", "", ""],                    # 5: notation
        [email("v"), "mentor", "", "rust:6", "", "", ""],                    # 6
        [email("v"), "mentor", "", "", "ten", "", "mon:9-25"],               # 7: notation
        [email("v"), "mentee", "", "", "", "21", ""],                        # 8
    ]
    path = csv_file(tmp_path / "many.csv", header, rows)
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, rc=1)
    assert [(row, col) for row, col, _ in r.problems] == [
        (2, "time_zone"), (4, "email"), (5, "skills_offered"), (6, "skills_offered"),
        (7, "capacity"), (7, "availability"), (8, "seniority_level")], r.cp.stderr
    assert r.doc["issues"] == [dict(row=row, column=col, message=msg)
                               for row, col, msg in r.problems]
    assert r.doc["applied"] is False
    # The summary line counts every row with a problem, not only those
    # mentorctl itself found.
    assert re.search(r"nothing was imported: 6 rows with problems", r.cp.stderr), r.cp.stderr
    assert snapshot(admin, pid) == before


# ---------------------------------------------------------------------------
# All or nothing, --skip-invalid, --dry-run


def mixed_file(server, admin, pid, path):
    """An enrolled participant (updated by the file), two new people, one
    row refused by mentorctl and one refused by the server."""
    known = server.make_user(admin)
    admin.ok("participant", "enroll", "--program", pid, "--user", known.id, "--role", "mentor",
             "--department", "Before")
    new = [email("ok"), email("ok")]
    notation, refused = email("nota"), email("tz")
    path = csv_file(path, ["email", "role", "department", "skills_wanted", "time_zone"], [
        [known.email, "mentor", "After", "", ""],
        [new[0], "mentee", "Finance", "sql:2", "Europe/Rome"],
        [notation, "mentee", "Finance", "sql", ""],
        [new[1], "mentor", "Finance", "", ""],
        [refused, "mentee", "Finance", "", "Europe/Atlantis"],
    ])
    return types.SimpleNamespace(path=path, known=known, new=new, bad=[notation, refused])


def test_one_bad_row_imports_nothing(server, admin, tmp_path):
    pid = new_program(admin)
    f = mixed_file(server, admin, pid, tmp_path / "mixed.csv")
    before = snapshot(admin, pid)
    r = run_import(admin, pid, f.path, rc=1)
    assert [(row, col) for row, col, _ in r.problems] == [(4, "skills_wanted"), (6, "time_zone")]
    assert r.doc["applied"] is False and r.doc["invites"] == []
    assert snapshot(admin, pid) == before
    assert participants(admin, pid)[f.known.email]["profile"]["department"] == "Before"


def test_skip_invalid(server, admin, tmp_path):
    pid = new_program(admin)
    f = mixed_file(server, admin, pid, tmp_path / "mixed.csv")
    invites = str(tmp_path / "invites.csv")
    r = run_import(admin, pid, f.path, "--skip-invalid", "--invites", invites)
    assert r.doc["applied"] is True
    expect_counts(r.doc, users_created=2, enrolled=2, updated=1, skipped=2)
    assert [(row, col) for row, col, _ in r.problems] == [(4, "skills_wanted"), (6, "time_zone")]
    assert sorted(read_invites(invites)) == sorted(f.new)
    listed = participants(admin, pid)
    assert sorted(listed) == sorted([f.known.email] + f.new)
    assert listed[f.known.email]["profile"]["department"] == "After"
    assert listed[f.new[0]]["profile"]["time_zone"] == "Europe/Rome"
    assert not set(f.bad) & set(users(admin))


def test_dry_run(server, admin, tmp_path):
    pid = new_program(admin)
    f = mixed_file(server, admin, pid, tmp_path / "mixed.csv")
    before = snapshot(admin, pid)
    invites = str(tmp_path / "invites.csv")
    # Every problem is reported, from mentorctl and from the server alike,
    # and nothing is written: no users, no enrollment, no invitation codes.
    # As the real run would import nothing, the counts are all 0 and the
    # exit status is 1.
    r = run_import(admin, pid, f.path, "--dry-run", "--invites", invites, rc=1)
    assert r.doc["applied"] is False and r.doc["dry_run"] is True
    assert [(row, col) for row, col, _ in r.problems] == [(4, "skills_wanted"), (6, "time_zone")]
    expect_counts(r.doc)
    assert "nothing would be imported: 2 rows with problems" in r.cp.stderr
    assert r.doc["invites_written"] == 0 and not os.path.exists(invites)
    assert snapshot(admin, pid) == before

    # With --skip-invalid the real run would import the other rows: the dry
    # run says how, lists the problems, counts them as skipped, exits 0.
    r = run_import(admin, pid, f.path, "--dry-run", "--skip-invalid")
    assert r.doc["applied"] is False and r.doc["dry_run"] is True
    assert [(row, col) for row, col, _ in r.problems] == [(4, "skills_wanted"), (6, "time_zone")]
    expect_counts(r.doc, users_created=2, enrolled=2, updated=1, skipped=2)
    assert r.doc["invites"] == []
    assert snapshot(admin, pid) == before

    # A clean file passes the dry run, and is then imported for real.
    clean = csv_file(tmp_path / "clean.csv", ["email", "role"], [[f.new[0], "mentee"]])
    r = run_import(admin, pid, clean, "--dry-run", "--invites", invites)
    assert r.doc["applied"] is False and r.problems == []
    expect_counts(r.doc, users_created=1, enrolled=1)
    assert r.doc["invites_written"] == 0 and not os.path.exists(invites)
    assert snapshot(admin, pid) == before
    expect_counts(run_import(admin, pid, clean).doc, users_created=1, enrolled=1)


# ---------------------------------------------------------------------------
# Importing again, export then import


def test_import_twice_changes_nothing(server, admin, tmp_path):
    pid = new_program(admin)
    known = server.make_user(admin)
    new = [email("twice"), email("twice")]
    path = csv_file(tmp_path / "twice.csv",
                    ["email", "role", "skills_offered", "manager_email", "availability"], [
                        [new[0], "mentor", "c:5;go:3", new[1], '"mon-fri:9-12,sat:10-11"'],
                        [new[1], "mentor", "", "", ""],
                        [known.email, "mentee", "", new[0], ""],
                    ])
    first = str(tmp_path / "first.csv")
    r = run_import(admin, pid, path, "--invites", first)
    expect_counts(r.doc, users_created=2, enrolled=3)
    assert sorted(read_invites(first)) == sorted(new)
    people = users(admin)
    state = participants(admin, pid, all=True)

    second = str(tmp_path / "second.csv")
    r = run_import(admin, pid, path, "--invites", second)
    assert r.doc["applied"] is True and r.problems == []
    expect_counts(r.doc, unchanged=3)
    assert r.doc["invites_written"] == 0
    assert not os.path.exists(second)
    assert users(admin) == people
    assert participants(admin, pid, all=True) == state


def round_trip_program(server, admin, tmp_path):
    """A program whose participants came every which way: imported (with
    quotes, commas, a manager later in the file), enrolled by an admin with
    a profile, and self-enrolled with none."""
    pid = new_program(admin)
    rows = [email("rt"), email("rt")]
    path = csv_file(tmp_path / "setup.csv", EXPORT_COLUMNS, [
        [rows[0], '"Doe, Jane ""JD"""', "mentee", "", "public speaking:1",
         '"growth;""staff"" role"', "chess", '"R&D, Europe"', 3, 2, "Europe/Paris", "fr;en",
         '"tue:18-20,thu:18-20"', rows[1], ""],
        [rows[1], "Kofi Mensah", "mentor", "go:4;kubernetes:3", "", "", "", "Platform", 8, 15,
         "Africa/Accra", "en", '"mon-fri:9-17"', "", 3],
    ])
    expect_counts(run_import(admin, pid, path).doc, users_created=2, enrolled=2)
    boss = server.make_user(admin)
    enrolled = server.make_user(admin)
    admin.ok("participant", "enroll", "--program", pid, "--user", enrolled.id, "--role",
             "mentor", "--offer", "C:4", "--offer", " Code  Review :3", "--want", "rust:2",
             "--goal", "Architect", "--interest", "Go", "--language", "EN", "--department",
             "Storage", "--level", "5", "--years", "8", "--time-zone", "Asia/Tokyo",
             "--availability", "sat:10-12,mon-fri:9-17", "--manager", boss.id, "--capacity", "2")
    selfish = server.make_user(admin)
    selfish.client.ok("participant", "enroll", "--program", pid, "--role", "mentee")
    return pid, rows + [enrolled.email, selfish.email], selfish


def test_export_then_import_is_unchanged(server, admin, tmp_path):
    pid, emails, _ = round_trip_program(server, admin, tmp_path)
    out = export_file(admin, pid, str(tmp_path / "export.csv"), "--csv")
    assert mode_of(out) == 0o600
    with open(out, "r", encoding="utf-8", newline="") as f:
        text = f.read()
    assert text.splitlines()[0] == ",".join(EXPORT_COLUMNS)
    assert '"Doe, Jane ""JD"""' in text and '"R&D, Europe"' in text

    state = participants(admin, pid, all=True)
    r = run_import(admin, pid, out)
    assert r.problems == []
    expect_counts(r.doc, unchanged=len(emails))
    assert participants(admin, pid, all=True) == state

    # The same through stdout, and as JSON.
    cp = admin.ctl("export", "participants", "--program", pid)
    assert cp.returncode == 0 and cp.stdout == text, harness.describe(cp, "export to stdout")
    doc = admin.ok("export", "participants", "--program", pid)
    assert sorted(p["email"] for p in doc["participants"]) == sorted(emails)
    jpath = export_file(admin, pid, str(tmp_path / "export.json"), "--json")
    assert mode_of(jpath) == 0o600
    with open(jpath, "r", encoding="utf-8") as f:
        assert json.load(f) == doc

    # A change in the file is an update, and shows.
    changed = text.replace('"R&D, Europe"', "Research")
    assert changed != text
    path = write_file(tmp_path / "changed.csv", changed)
    r = run_import(admin, pid, path)
    expect_counts(r.doc, updated=1, unchanged=len(emails) - 1)
    assert participants(admin, pid)[emails[0]]["profile"]["department"] == "Research"
    expect_counts(run_import(admin, pid, path).doc, unchanged=len(emails))


def test_round_trip_keeps_what_export_cannot_see(server, admin, tmp_path):
    # Attributes are shown only to the participant, so the file an admin
    # exports cannot hold them; importing it back must leave them alone.
    pid, emails, selfish = round_trip_program(server, admin, tmp_path)
    selfish.client.ok("profile", "edit", "--program", pid, "--attribute", "pronouns=they/them")
    out = export_file(admin, pid, str(tmp_path / "export.csv"), "--csv")
    r = run_import(admin, pid, out)
    mine = unwrap(selfish.client.ok("profile", "show", "--program", pid), "participant")
    assert mine.get("profile", mine)["attributes"] == {"pronouns": "they/them"}
    expect_counts(r.doc, unchanged=len(emails))


# ---------------------------------------------------------------------------
# The columns a file has


def enrolled_with_profiles(admin, tmp_path):
    """A program whose three participants have every profile field set, two
    of them with a manager (the first). Returns the program and e-mails."""
    pid = new_program(admin)
    boss, a, b = email("cols"), email("cols"), email("cols")
    path = csv_file(tmp_path / "full.csv", EXPORT_COLUMNS, [
        [boss, "Boss", "mentor", "go:5", "python:3", "cto", "sailing", "Exec", 9, 20, "UTC",
         "en", '"mon:9-10"', "", 4],
        [a, "Ann", "mentor", "python:4;sql:2", "rust:2", "staff engineer", "chess",
         "Platform", 5, 8, "Europe/Paris", "fr;en", '"mon-fri:9-17"', boss, 2],
        [b, "Bob", "mentee", "c:1", "go:3", "team lead", "music", "Sales", 2, 1, "Asia/Tokyo",
         "ja", '"sat:10-12"', boss, 1],
    ])
    expect_counts(run_import(admin, pid, path).doc, users_created=3, enrolled=3)
    return pid, (boss, a, b)


def test_file_without_a_column_keeps_that_field(admin, tmp_path):
    pid, (boss, a, b) = enrolled_with_profiles(admin, tmp_path)
    before = participants(admin, pid)
    assert before[a]["profile"]["manager_id"] == before[boss]["user_id"]
    # Only the capacity is in the file: only the capacity changes, and the
    # manager, the skills and every other field stay as they were.
    path = csv_file(tmp_path / "capacity.csv", ["email", "role", "capacity"],
                    [[a, "mentor", 5], [boss, "mentor", 4]])
    r = run_import(admin, pid, path)
    assert r.problems == []
    expect_counts(r.doc, updated=1, unchanged=1)
    after = participants(admin, pid)
    assert after[a]["profile"] == dict(before[a]["profile"], capacity=5)
    assert after[boss] == before[boss] and after[b] == before[b]
    # New participants get exactly what the file says.
    c = email("cols")
    path = csv_file(tmp_path / "new.csv", ["email", "role", "capacity"], [[c, "mentor", 3]])
    expect_counts(run_import(admin, pid, path).doc, users_created=1, enrolled=1)
    prof = participants(admin, pid)[c]["profile"]
    assert (prof["capacity"], prof["department"], prof["skills_offered"], prof["manager_id"]) == (
        3, "", [], 0)


def test_empty_cell_clears_the_field(admin, tmp_path):
    pid, (boss, a, b) = enrolled_with_profiles(admin, tmp_path)
    before = participants(admin, pid)
    path = csv_file(tmp_path / "clear.csv", ["email", "role", "department", "manager_email"],
                    [[a, "mentor", "", ""], [b, "mentee", "Sales", boss]])
    r = run_import(admin, pid, path)
    expect_counts(r.doc, updated=1, unchanged=1)
    after = participants(admin, pid)
    assert after[a]["profile"] == dict(before[a]["profile"], department="", manager_id=0)
    assert after[b] == before[b]
    # A list column empties its list.
    path = csv_file(tmp_path / "clear2.csv", ["email", "role", "skills_offered", "capacity"],
                    [[a, "mentor", "", ""]])
    expect_counts(run_import(admin, pid, path).doc, updated=1)
    prof = participants(admin, pid)[a]["profile"]
    assert prof == dict(before[a]["profile"], department="", manager_id=0, skills_offered=[],
                        capacity=0)


def test_file_without_profile_columns_keeps_profiles(admin, tmp_path):
    pid, (boss, a, b) = enrolled_with_profiles(admin, tmp_path)
    before = participants(admin, pid)
    path = csv_file(tmp_path / "roles.csv", ["email", "role"], [[a, "mentor"], [b, "mentee"]])
    r = run_import(admin, pid, path)
    expect_counts(r.doc, unchanged=2)
    assert participants(admin, pid) == before


def test_seniority_level_0_is_refused(admin, tmp_path):
    pid = new_program(admin)
    a = email("lvl")
    path = csv_file(tmp_path / "lvl.csv", ["email", "role", "seniority_level", "seniority_years"],
                    [[a, "mentee", 0, 0]])
    r = run_import(admin, pid, path, rc=1)
    assert [(row, col) for row, col, _ in r.problems] == [(2, "seniority_level")]
    assert "1-20" in r.problems[0][2]
    assert a not in users(admin)


# ---------------------------------------------------------------------------
# Dry runs and invitation codes


def test_dry_run_counts_what_would_happen(server, admin, tmp_path):
    pid = new_program(admin)
    known = server.make_user(admin)
    admin.ok("participant", "enroll", "--program", pid, "--user", known.id, "--role", "mentor",
             "--department", "Before")
    fresh = [email("dry") for _ in range(4)]
    path = csv_file(tmp_path / "dry.csv", ["email", "role", "department"],
                    [[e, "mentee", "New"] for e in fresh] + [[known.email, "mentor", "After"]])
    before = snapshot(admin, pid)
    r = run_import(admin, pid, path, "--dry-run")
    assert (r.doc["applied"], r.doc["dry_run"], r.doc["rows"]) == (False, True, 5)
    expect_counts(r.doc, users_created=4, enrolled=4, updated=1)
    assert r.doc["invites"] == [] and r.problems == []
    # Nothing exists afterwards.
    assert snapshot(admin, pid) == before
    assert not set(fresh) & set(users(admin))

    # The same as a table, under a line that says so.
    cp = admin.ctl("import", "participants", "--program", pid, path, "--dry-run")
    assert cp.returncode == 0, harness.describe(cp, "dry run as a table")
    assert cp.stdout.startswith("dry run: nothing was written"), cp.stdout
    summary = dict(re.findall(r"^([a-z ]+):\s+(\S.*?)\s*$", cp.stdout, re.M))
    assert (summary["users created"], summary["enrolled"], summary["updated"],
            summary["applied"]) == ("4", "4", "1", "no (dry run)"), cp.stdout
    assert "Invitation codes" not in cp.stdout
    assert snapshot(admin, pid) == before

    # The real run does what the dry run said.
    r = run_import(admin, pid, path)
    expect_counts(r.doc, users_created=4, enrolled=4, updated=1)
    assert r.doc["dry_run"] is False and len(r.doc["invites"]) == 4


def test_invites_file_keeps_codes_off_stdout(admin, tmp_path):
    pid = new_program(admin)
    people = [email("inv") for _ in range(3)]
    # As a table.
    path = csv_file(tmp_path / "a.csv", ["email", "role"], [[people[0], "mentor"]])
    codes_a = str(tmp_path / "codes-a.csv")
    cp = admin.ctl("import", "participants", "--program", pid, path, "--invites", codes_a)
    assert cp.returncode == 0, harness.describe(cp, "import with --invites")
    [(code, _)] = read_invites(codes_a).values()
    assert code not in cp.stdout and code not in cp.stderr
    assert "Invitation codes" not in cp.stdout
    assert re.search(r"^1 invitation code written to %s$" % re.escape(codes_a), cp.stdout,
                     re.M), cp.stdout
    # As JSON: the file and the count instead of the codes.
    path = csv_file(tmp_path / "b.csv", ["email", "role"],
                    [[people[1], "mentee"], [people[2], "mentee"]])
    codes_b = str(tmp_path / "codes-b.csv")
    r = run_import(admin, pid, path, "--invites", codes_b)
    assert "invites" not in r.doc
    assert (r.doc["invites_file"], r.doc["invites_written"]) == (codes_b, 2)
    written = read_invites(codes_b)
    assert sorted(written) == sorted(people[1:])
    assert mode_of(codes_b) == 0o600
    for code, _ in written.values():
        assert code not in r.cp.stdout and code not in r.cp.stderr
    # Without --invites the codes are printed, as the only copy.
    c = email("inv")
    path = csv_file(tmp_path / "c.csv", ["email", "role"], [[c, "mentee"]])
    r = run_import(admin, pid, path)
    assert [i["email"] for i in r.doc["invites"]] == [c] and r.doc["invites"][0]["code"]
    assert "invites_file" not in r.doc


# ---------------------------------------------------------------------------
# Files of many rows


def test_large_file_in_batches(admin, tmp_path):
    pid = new_program(admin)
    n = 2500
    tag = harness.unique("bulk")
    rows = [["%s-%04d@import.test" % (tag, i), "mentor" if i % 5 == 0 else "mentee",
             "Dept %d" % (i % 7), "go:%d;sql:%d" % (1 + i % 5, 1 + i % 3),
             "Europe/Paris" if i % 2 else "Asia/Kolkata"] for i in range(n)]
    path = csv_file(tmp_path / "bulk.csv",
                    ["email", "role", "department", "skills_wanted", "time_zone"], rows)
    invites = str(tmp_path / "invites.csv")
    r = run_import(admin, pid, path, "--invites", invites)
    assert r.doc["applied"] is True and r.doc["rows"] == n
    expect_counts(r.doc, users_created=n, enrolled=n)
    assert len(read_invites(invites)) == n

    # stderr is not a terminal: plain progress lines, no carriage returns.
    # They count rows sent (nothing is written before the end), from the
    # first batch past row 1000.
    assert "\r" not in r.cp.stderr
    progress = [int(m) for m in re.findall(r"^sent (\d+) rows$", r.cp.stderr, re.M)]
    assert progress == [1500, 2000, 2500], r.cp.stderr

    listed = participants(admin, pid)
    assert len(listed) == n
    prog = unwrap(admin.ok("program", "show", pid), "program")
    assert (prog["mentor_count"], prog["mentee_count"]) == (n // 5, n - n // 5)
    sample = listed[rows[1234][0]]
    assert sample["profile"]["department"] == "Dept %d" % (1234 % 7)
    assert skills(sample["profile"], "skills_wanted") == [("go", 5), ("sql", 2)]

    r = run_import(admin, pid, path)
    expect_counts(r.doc, unchanged=n)


def test_small_file_shows_no_progress(admin, tmp_path):
    pid = new_program(admin)
    path = csv_file(tmp_path / "few.csv", ["email", "role"],
                    [[email("few"), "mentee"] for _ in range(20)])
    r = run_import(admin, pid, path)
    expect_counts(r.doc, users_created=20, enrolled=20)
    assert r.cp.stderr == ""


def test_long_valid_rows(admin, tmp_path):
    # Rows of 2.4 KB (600 of them, 1.4 MB): 500 in one request would pass
    # the server's frame limit (1 MiB), so batches must end by size too.
    pid = new_program(admin)
    tag = harness.unique("wide")
    interests = ";".join("interest %02d %s" % (k, "x" * 85) for k in range(25))
    rows = [["%s-%03d@import.test" % (tag, i), "mentee", '"%s"' % interests] for i in range(600)]
    path = csv_file(tmp_path / "wide.csv", ["email", "role", "interests"], rows)
    assert os.path.getsize(path) > 1024 * 1024
    r = run_import(admin, pid, path)
    assert r.problems == []
    expect_counts(r.doc, users_created=600, enrolled=600)
    prof = participants(admin, pid)[rows[599][0]]["profile"]
    assert len(prof["interests"]) == 25
    expect_counts(run_import(admin, pid, path).doc, unchanged=600)


def test_batches_follow_the_frame_limit_the_server_announces(server_factory, tmp_path):
    # A server that takes frames of 64 KiB: batches shrink to fit, and a row
    # that the default limit would let through is now too large to send.
    srv = server_factory(start=False)
    srv.start(extra_args=["--max-frame", "65536"])
    admin = srv.login_admin()
    pid = new_program(admin)
    tag = harness.unique("small")
    interests = ";".join("interest %02d %s" % (k, "x" * 85) for k in range(25))
    rows = [["%s-%03d@import.test" % (tag, i), "mentee", '"%s"' % interests] for i in range(100)]
    rows.insert(50, ["%s-big@import.test" % tag, "mentee", "y" * 20000])
    path = csv_file(tmp_path / "small.csv", ["email", "role", "interests"], rows)
    r = run_import(admin, pid, path, rc=1)
    assert [(row, col) for row, col, _ in r.problems] == [(52, "interests")], r.cp.stderr
    assert "the cell is too large (20000 bytes" in r.problems[0][2]
    assert participants(admin, pid) == {}
    r = run_import(admin, pid, path, "--skip-invalid")
    expect_counts(r.doc, users_created=100, enrolled=100, skipped=1)
    assert len(participants(admin, pid)) == 100


# ---------------------------------------------------------------------------
# Who may import, and into what


def test_assigned_coordinator_may_import_and_export(server, admin, tmp_path):
    coord = server.make_user(admin, role="coordinator")
    pid = new_program(admin, coordinators=[coord])
    a = email("coord")
    path = csv_file(tmp_path / "c.csv", ["email", "role", "department"], [[a, "mentor", "Ops"]])
    r = run_import(coord.client, pid, path)
    expect_counts(r.doc, users_created=1, enrolled=1)
    assert [i["email"] for i in r.doc["invites"]] == [a]
    doc = coord.client.ok("export", "participants", "--program", pid)
    assert [p["email"] for p in doc["participants"]] == [a]


def test_unassigned_coordinator_and_member_are_refused(server, admin, tmp_path):
    runner = server.make_user(admin, role="coordinator")
    outsider = server.make_user(admin, role="coordinator")
    member = server.make_user(admin)
    draft = new_program(admin, state="draft", coordinators=[runner])
    enrolling = new_program(admin, coordinators=[runner])
    a = email("nope")
    path = csv_file(tmp_path / "n.csv", ["email", "role"], [[a, "mentee"]])
    before = {pid: snapshot(admin, pid) for pid in (draft, enrolling)}

    def refused(who, pid, code):
        who.client.fail("import", "participants", "--program", pid, path, code=code)
        who.client.fail("export", "participants", "--program", pid, code=code)

    # A draft program of someone else does not exist for a coordinator; an
    # enrolling one is visible but not theirs to run.
    refused(outsider, draft, "NOT_FOUND")
    refused(outsider, enrolling, "PERMISSION_DENIED")
    for pid in (draft, enrolling):
        refused(member, pid, "PERMISSION_DENIED")
    admin.fail("import", "participants", "--program", 9_000_000_000, path, code="NOT_FOUND")
    for pid in (draft, enrolling):
        assert snapshot(admin, pid) == before[pid]
    # The one who runs them may.
    expect_counts(run_import(runner.client, draft, path).doc, users_created=1, enrolled=1)


def test_closed_program_is_refused(admin, tmp_path):
    pid = new_program(admin, state="closed")
    before = snapshot(admin, pid)
    a = email("closed")
    path = csv_file(tmp_path / "closed.csv", ["email", "role"], [[a, "mentor"]])
    err = admin.fail("import", "participants", "--program", pid, path,
                     code="FAILED_PRECONDITION")
    assert "closed" in err["message"]
    admin.fail("import", "participants", "--program", pid, path, "--dry-run",
               code="FAILED_PRECONDITION")
    assert snapshot(admin, pid) == before
    # Its participants can still be exported.
    assert admin.ok("export", "participants", "--program", pid) == {"participants": []}


# ---------------------------------------------------------------------------
# Re-enrolling


def test_withdrawn_participant_is_reenrolled(server, admin, tmp_path):
    pid = new_program(admin)
    person = server.make_user(admin)
    admin.ok("participant", "enroll", "--program", pid, "--user", person.id, "--role", "mentee",
             "--department", "Old")
    person.client.ok("participant", "withdraw", "--program", pid)
    assert participants(admin, pid) == {}
    other = email("re")
    path = csv_file(tmp_path / "re.csv", ["email", "role", "department"],
                    [[person.email, "mentor", "New"], [other, "mentee", "New"]])
    r = run_import(admin, pid, path)
    expect_counts(r.doc, users_created=1, enrolled=2)
    everyone = participants(admin, pid, all=True)
    assert sorted(everyone) == sorted([person.email, other])
    p = everyone[person.email]
    assert (p["status"], p["role"], p["profile"]["department"]) == ("active", "mentor", "New")
    mine = unwrap(person.client.ok("participant", "show", "--program", pid), "participant")
    assert mine["status"] == "active"
    expect_counts(run_import(admin, pid, path).doc, unchanged=2)
