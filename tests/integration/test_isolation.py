"""Tenant isolation, checked from the database catalog and under load.

test_catalog_every_tenant_table_is_fenced reads PostgreSQL's catalog of a
live server: every table with an org_id column has row-level security
enabled and forced and a policy on md_current_org(); every other table is
on a short list of known exceptions (with the reason); views are
security_invoker; the runtime role is neither superuser nor BYPASSRLS and
owns no table, view, sequence or function. A new table that forgets any of
this fails the test.

test_concurrent_clients_never_see_foreign_rows runs many clients of four
organizations at once against a server whose pool has only two database
connections, so every connection serves every organization in turn; each
client makes random reads and writes, and no answer may ever hold a row of
another organization.
"""

import os
import random
import subprocess
import threading
import time

import pytest

import harness
from test_programs import World

# Tables without org_id, and why that is safe.
NOT_TENANT_TABLES = {
    "orgs": "the tenants themselves: its policy is on id = md_current_org()",
    "login_failures": "keyed by a hash of org and e-mail; reached only by definer functions",
    "login_address_failures": "keyed by a hash of the address; reached only by definer functions",
    "schema_migrations": "migration bookkeeping, not readable by the runtime role",
}


def psql(server, sql):
    """Run `sql` as the owner role on the embedded cluster; rows as lists."""
    sock = os.path.join(server.data_dir, "run")
    cp = subprocess.run(
        ["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
         "host=%s user=mentord_owner dbname=mentord" % sock, "-c", sql],
        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, "psql failed: %s\n%s" % (sql, cp.stderr)
    return [line.split("\t") for line in cp.stdout.splitlines() if line]


def test_catalog_every_tenant_table_is_fenced(server):
    tables = psql(server, """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                        AND a.attname = 'org_id' AND NOT a.attisdropped),
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid
                 AND pg_get_expr(p.polqual, p.polrelid) LIKE '%md_current_org()%'
                 AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%md_current_org()%')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
         ORDER BY 1""")
    assert tables, "no tables found"
    problems = []
    names = set()
    for name, rls, force, has_org, policies in tables:
        names.add(name)
        if has_org == "t":
            if rls != "t" or force != "t":
                problems.append("%s: row-level security not enabled and forced" % name)
            if int(policies) == 0:
                problems.append("%s: no policy on md_current_org() (USING and WITH CHECK)" % name)
        elif name not in NOT_TENANT_TABLES:
            problems.append("%s: no org_id column and not a known exception" % name)
    if "orgs" in names:
        rls = [t for t in tables if t[0] == "orgs"][0]
        if rls[1] != "t" or rls[2] != "t" or int(rls[4]) == 0:
            problems.append("orgs: row-level security not forced with a policy")
    for name in NOT_TENANT_TABLES:
        if name not in names:
            problems.append("%s: listed as an exception but does not exist" % name)

    views = psql(server, """
        SELECT c.relname, coalesce(array_to_string(c.reloptions, ','), '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')""")
    for name, options in views:
        if "security_invoker=true" not in options:
            problems.append("view %s is not security_invoker" % name)

    role = psql(server, "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'mentord_app'")
    assert role == [["f", "f"]], "mentord_app must be NOSUPERUSER NOBYPASSRLS: %s" % role
    owned = psql(server, """
        SELECT 'relation ' || c.relname FROM pg_class c
          JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = 'mentord_app'
           AND c.relpersistence <> 't'
        UNION ALL
        SELECT 'function ' || p.proname FROM pg_proc p
          JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = 'mentord_app'""")
    for (what,) in owned:
        problems.append("mentord_app owns %s" % what)
    # The runtime role may not read the migration bookkeeping.
    grants = psql(server, """
        SELECT has_table_privilege('mentord_app', 'schema_migrations', 'SELECT'),
               has_table_privilege('mentord_app', 'login_failures', 'SELECT'),
               has_table_privilege('mentord_app', 'login_address_failures', 'SELECT')""")
    if grants != [["f", "f", "f"]]:
        problems.append("mentord_app can read schema_migrations or login_failures: %s" % grants)
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------------------

ORGS = 4
CLIENTS_PER_ORG = 3
SECONDS = 8


@pytest.fixture(scope="module")
def small_pool(pb):
    srv = harness.Server.create(start=False)
    try:
        srv.start(extra_args=["--pool-size", "2"])
        yield srv
    finally:
        srv.destroy()


def seed_org(world, index):
    """An organization whose every e-mail ends in its own domain, with a
    few members and programs named after it."""
    slug = harness.unique("iso%d" % index)
    rep = world.admin.ok("org_create", slug=slug, name="Isolation %d" % index,
                         admin_email="boss@%s.test" % slug, admin_display_name="Boss")
    admin = world.accept(rep.invite_code, slug)
    domain = "@%s.test" % admin.org
    programs = []
    for i in range(2):
        prog = world.program("ENROLLING", admin=admin, name="%s program %d" % (admin.org, i))
        programs.append(prog.id)
    members = []
    for i in range(3):
        m = world.user("member", admin=admin)
        assert m.email.endswith(domain)
        members.append(m.id)
        admin.ok("participant_enroll", world.pb.ParticipantEnroll(
            program_id=programs[0], user_id=m.id,
            role=world.pb.MENTOR if i == 0 else world.pb.MENTEE))
    return {"admin": admin, "domain": domain, "programs": programs, "members": members,
            "org": admin.org}


def test_concurrent_clients_never_see_foreign_rows(small_pool, pb):
    world = World(small_pool, pb)
    try:
        orgs = [seed_org(world, i) for i in range(ORGS)]
        all_programs = {p: o["org"] for o in orgs for p in o["programs"]}
        all_users = {u: o["org"] for o in orgs for u in o["members"]}
        problems = []
        counts = {"requests": 0, "errors": 0}
        lock = threading.Lock()
        deadline = time.monotonic() + SECONDS

        def client(org, seed):
            rnd = random.Random(seed)
            actor = world.login_as(org["admin"])
            mine = org["org"]

            def foreign(what, value):
                with lock:
                    problems.append("%s of org %s saw %s %r" % (actor_name, mine, what, value))

            actor_name = "client %d" % seed
            n = 0
            while time.monotonic() < deadline:
                n += 1
                op = rnd.randrange(6)
                if op == 0:
                    r = actor.call("user_list", pb.UserList(include_inactive=True))
                    for u in r.user_list.users:
                        if not u.email.endswith(org["domain"]):
                            foreign("user", u.email)
                elif op == 1:
                    r = actor.call("program_list", pb.ProgramList())
                    for p in r.program_list.programs:
                        if all_programs.get(p.id, mine) != mine or not p.name.startswith(mine):
                            foreign("program", p.name)
                elif op == 2:
                    prog = rnd.choice(list(all_programs))
                    r = actor.call("participant_list", pb.ParticipantList(program_id=prog))
                    if all_programs[prog] != mine and r.status.code != pb.NOT_FOUND:
                        foreign("participants of program", prog)
                    for p in r.participant_list.participants:
                        if not p.email.endswith(org["domain"]):
                            foreign("participant", p.email)
                elif op == 3:
                    uid = rnd.choice(list(all_users))
                    r = actor.call("user_show", pb.UserShow(id=uid))
                    if all_users[uid] != mine and r.status.code != pb.NOT_FOUND:
                        foreign("user id", uid)
                    if r.status.code == pb.OK and not r.user.email.endswith(org["domain"]):
                        foreign("user", r.user.email)
                elif op == 4:
                    prog = rnd.choice(list(all_programs))
                    r = actor.call("program_update", pb.ProgramUpdate(
                        id=prog, program=pb.Program(description="touched by %s" % mine),
                        update_mask=["description"]))
                    if all_programs[prog] != mine and r.status.code != pb.NOT_FOUND:
                        foreign("writable program", prog)
                else:
                    r = actor.call("org_show", pb.OrgShow())
                    if r.org.slug != mine:
                        foreign("org", r.org.slug)
                with lock:
                    counts["requests"] += 1
                    if r.status.code not in (pb.OK, pb.NOT_FOUND):
                        counts["errors"] += 1
                        problems.append("%s: %s %s" % (actor_name, pb.Code.Name(r.status.code),
                                                       r.status.message))

        threads = []
        for i, org in enumerate(orgs):
            for j in range(CLIENTS_PER_ORG):
                t = threading.Thread(target=client, args=(org, i * CLIENTS_PER_ORG + j))
                threads.append(t)
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 60)
        assert not any(t.is_alive() for t in threads), "a client thread hung"
        assert counts["requests"] > 100, "too few requests to mean anything: %s" % counts
        assert not problems, "\n".join(problems[:30])
        # Every program's description was written only by its own org.
        for o in orgs:
            for prog in o["programs"]:
                p = o["admin"].ok("program_show", pb.ProgramShow(id=prog))
                assert p.description in ("", "touched by %s" % o["org"]), p.description
    finally:
        world.close()
