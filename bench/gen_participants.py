#!/usr/bin/env python3
"""Generates a participants file (the CSV that `mentorctl import participants`
reads, see README "Participants files") of N made-up but plausible rows, for
the benchmarks.

The output depends only on the options: the same seed and row count give the
same bytes, so two runs measure the same work. About a third of the rows are
mentors. Every row has skills, goals, interests, a department, seniority, one
of a few dozen IANA time zones, languages that fit it, and weekly
availability; about one row in twenty is a manager, and most other rows name
one of them as manager_email, so managers always refer to rows of the same
file (and never form a cycle). Some names are non-ASCII, and some cells need
quoting because they hold commas or quotes.

--shift-departments K moves every row K places along the department list
and changes nothing else, so the file with K = 1 differs from the one with
K = 0 in exactly one cell per row: importing one after the other updates
every participant.

Standard library only.
"""

import argparse
import csv
import random
import sys

COLUMNS = [
    "email", "display_name", "role", "skills_offered", "skills_wanted", "career_goals",
    "interests", "department", "seniority_level", "seniority_years", "time_zone",
    "languages", "availability", "manager_email", "capacity",
]

# (display form, ASCII form for the e-mail address)
FIRST_NAMES = [
    ("Ana", "ana"), ("Zoë", "zoe"), ("José", "jose"), ("Łukasz", "lukasz"), ("Søren", "soren"),
    ("Amélie", "amelie"), ("Björn", "bjorn"), ("Chiara", "chiara"), ("Dmitri", "dmitri"),
    ("Emeka", "emeka"), ("Fatima", "fatima"), ("Grace", "grace"), ("Hiroshi", "hiroshi"),
    ("Ines", "ines"), ("Jamal", "jamal"), ("Kateřina", "katerina"), ("Liam", "liam"),
    ("Mei", "mei"), ("Nikhil", "nikhil"), ("Olivia", "olivia"), ("Pedro", "pedro"),
    ("Quentin", "quentin"), ("Rania", "rania"), ("Sven", "sven"), ("Tomás", "tomas"),
    ("Uma", "uma"), ("Valentina", "valentina"), ("Wei", "wei"), ("Xavier", "xavier"),
    ("Yuki", "yuki"), ("Zainab", "zainab"), ("Aarav", "aarav"), ("Bea", "bea"),
    ("Chen", "chen"), ("Daniel", "daniel"), ("Elif", "elif"), ("François", "francois"),
    ("Gabriel", "gabriel"), ("Hana", "hana"), ("Ivan", "ivan"), ("Julia", "julia"),
    ("Kwame", "kwame"), ("Laura", "laura"), ("Mateo", "mateo"), ("Nour", "nour"),
    ("Oskar", "oskar"), ("Priya", "priya"), ("Rafael", "rafael"), ("Sofia", "sofia"),
    ("Thabo", "thabo"), ("Ngọc", "ngoc"), ("Сергей", "sergey"), ("美咲", "misaki"),
]
LAST_NAMES = [
    ("García", "garcia"), ("Müller", "muller"), ("Smith", "smith"), ("Nowak", "nowak"),
    ("Jensen", "jensen"), ("Rossi", "rossi"), ("Dubois", "dubois"), ("Okafor", "okafor"),
    ("Haddad", "haddad"), ("Tanaka", "tanaka"), ("Kim", "kim"), ("Li", "li"),
    ("Patel", "patel"), ("Silva", "silva"), ("O'Neil", "oneil"), ("van der Berg", "vanderberg"),
    ("Johansson", "johansson"), ("Novák", "novak"), ("Yılmaz", "yilmaz"), ("Nguyễn", "nguyen"),
    ("Mensah", "mensah"), ("Fernández", "fernandez"), ("Kowalski", "kowalski"),
    ("Andersen", "andersen"), ("Costa", "costa"), ("Schmidt", "schmidt"), ("Sato", "sato"),
    ("Wang", "wang"), ("Ivanova", "ivanova"), ("Brown", "brown"), ("Martin", "martin"),
    ("Ndlovu", "ndlovu"), ("Lefèvre", "lefevre"), ("Papadopoulos", "papadopoulos"),
    ("Hernández", "hernandez"), ("Chowdhury", "chowdhury"), ("Kuznetsov", "kuznetsov"),
    ("Öztürk", "ozturk"), ("Murphy", "murphy"), ("Virtanen", "virtanen"),
]

SKILLS = [
    "python", "go", "rust", "c", "c++", "java", "typescript", "sql", "postgresql",
    "kubernetes", "terraform", "aws", "distributed systems", "observability", "security",
    "machine learning", "data analysis", "statistics", "api design", "code review",
    "testing", "incident response", "performance tuning", "system design", "mobile",
    "frontend", "accessibility", "ux research", "product strategy", "roadmapping",
    "public speaking", "technical writing", "negotiation", "hiring", "coaching",
    "people management", "budgeting", "stakeholder management", "agile", "sales",
    "customer discovery", "pricing", "contract law", "financial modelling", "recruiting",
]
CAREER_GOALS = [
    "team lead", "staff engineer", "principal engineer", "architecture", "people management",
    "product management", "public speaking", "switch to data science", "become a manager",
    "technical writing", "open source maintainer", "start a company", "director",
    "security specialist", "promotion to senior", "work-life balance", "mentor others",
    "move to design", "sales leadership", "international assignment",
]
# Some need quoting in CSV: one holds a comma, one a double quote.
INTERESTS = [
    "climbing", "chess", "running", "cycling", "photography", "cooking", "gardening",
    "board games", "jazz, blues and soul", 'indie "lo-fi" music', "reading", "sci-fi",
    "hiking", "yoga", "painting", "volunteering", "football", "basketball", "sailing",
    "podcasts", "languages", "history", "astronomy", "woodworking", "knitting", "travel",
    "video games", "theatre", "dance", "swimming",
]
# One holds a comma and needs quoting.
DEPARTMENTS = [
    "Platform", "Infrastructure", "Data", "Security", "Mobile", "Web", "Design",
    "Product", "Research, Applied", "Sales Engineering", "Marketing", "Finance",
    "People", "Legal", "Customer Success", "Operations",
]
# IANA time zones, each with the languages likely to be spoken there
# besides English.
TIME_ZONES = [
    ("Europe/London", []), ("Europe/Dublin", ["ga"]), ("Europe/Lisbon", ["pt"]),
    ("Europe/Madrid", ["es", "ca"]), ("Europe/Paris", ["fr"]), ("Europe/Brussels", ["fr", "nl"]),
    ("Europe/Amsterdam", ["nl"]), ("Europe/Berlin", ["de"]), ("Europe/Zurich", ["de", "fr", "it"]),
    ("Europe/Rome", ["it"]), ("Europe/Vienna", ["de"]), ("Europe/Prague", ["cs"]),
    ("Europe/Warsaw", ["pl"]), ("Europe/Stockholm", ["sv"]), ("Europe/Copenhagen", ["da"]),
    ("Europe/Helsinki", ["fi", "sv"]), ("Europe/Athens", ["el"]), ("Europe/Istanbul", ["tr"]),
    ("Africa/Lagos", ["yo"]), ("Africa/Nairobi", ["sw"]), ("Africa/Johannesburg", ["zu", "af"]),
    ("Africa/Cairo", ["ar"]), ("Asia/Dubai", ["ar"]), ("Asia/Kolkata", ["hi"]),
    ("Asia/Singapore", ["zh", "ms"]), ("Asia/Shanghai", ["zh"]), ("Asia/Tokyo", ["ja"]),
    ("Asia/Seoul", ["ko"]), ("Asia/Ho_Chi_Minh", ["vi"]), ("Asia/Jakarta", ["id"]),
    ("Australia/Sydney", []), ("Australia/Perth", []), ("Pacific/Auckland", ["mi"]),
    ("America/Sao_Paulo", ["pt"]), ("America/Argentina/Buenos_Aires", ["es"]),
    ("America/Bogota", ["es"]), ("America/Mexico_City", ["es"]), ("America/New_York", ["es"]),
    ("America/Toronto", ["fr"]), ("America/Chicago", ["es"]), ("America/Denver", []),
    ("America/Los_Angeles", ["es"]), ("America/Vancouver", []),
]
DAY_RANGES = ["mon-fri", "mon-thu", "mon-wed", "tue-thu", "tue-fri", "mon", "tue", "wed", "thu", "fri"]
WEEKEND_DAYS = ["sat", "sun"]


def skill_lists(rng, offered, wanted):
    """Skills offered and wanted as `name:level;...`, the two lists
    disjoint. Each of offered and wanted is (count, lowest, highest level)."""
    names = rng.sample(SKILLS, offered[0] + wanted[0])

    def cell(part, spec):
        return ";".join("%s:%d" % (s, rng.randint(spec[1], spec[2])) for s in part)

    return cell(names[: offered[0]], offered), cell(names[offered[0]:], wanted)


def pick_tags(rng, pool, low, high):
    return ";".join(rng.sample(pool, rng.randint(low, high)))


def availability(rng):
    """A weekly availability spec: one weekday block, sometimes a second one
    later in the day, sometimes a weekend slot."""
    start = rng.randint(7, 11)
    end = start + rng.randint(2, 6)
    items = ["%s:%d-%d" % (rng.choice(DAY_RANGES), start, end)]
    if rng.random() < 0.4:
        later = end + rng.randint(1, 3)
        items.append("%s:%d-%d" % (rng.choice(DAY_RANGES), later, min(later + 2, 24)))
    if rng.random() < 0.2:
        s = rng.randint(9, 14)
        items.append("%s:%d-%d" % (rng.choice(WEEKEND_DAYS), s, s + 2))
    return ",".join(items)


def generate(rows, seed, shift):
    """Yields `rows` dicts keyed by COLUMNS."""
    rng = random.Random(seed)
    # Names first: a row may name a manager that comes later in the file.
    people = []
    for i in range(rows):
        first, first_ascii = rng.choice(FIRST_NAMES)
        last, last_ascii = rng.choice(LAST_NAMES)
        people.append((first, first_ascii, last, last_ascii))
    emails = ["%s.%s.%d@bench.example.com" % (p[1], p[3], i) for i, p in enumerate(people)]
    # Every twentieth row is a manager; the first of them has none, the
    # others report to an earlier manager, everyone else to any manager.
    managers = list(range(0, rows, 20))

    for i, (first, _, last, _) in enumerate(people):
        mentor = rng.random() < 0.35
        is_manager = i % 20 == 0
        if mentor or is_manager:
            level = rng.randint(5, 14)
        else:
            level = rng.randint(1, 7)
        years = min(60, max(0, level * 2 + rng.randint(-2, 4)))
        tz, tz_langs = rng.choice(TIME_ZONES)
        langs = ["en"]
        if tz_langs and rng.random() < 0.8:
            langs = [tz_langs[0]] + langs if rng.random() < 0.5 else langs + [tz_langs[0]]
        if rng.random() < 0.1:
            extra = rng.choice(["fr", "de", "es", "pt", "ja", "zh", "ar"])
            if extra not in langs:
                langs.append(extra)

        if mentor:
            offered, wanted = skill_lists(rng, (rng.randint(2, 5), 3, 5), (rng.randint(0, 2), 1, 3))
        else:
            offered, wanted = skill_lists(rng, (rng.randint(0, 2), 1, 4), (rng.randint(2, 4), 1, 3))

        manager = ""
        if is_manager:
            earlier = [m for m in managers if m < i]
            if earlier:
                manager = emails[rng.choice(earlier)]
        elif managers and rng.random() < 0.85:
            manager = emails[rng.choice(managers)]

        # A few people are listed "Last, First", as some directories do.
        name = "%s, %s" % (last, first) if rng.random() < 0.04 else "%s %s" % (first, last)
        dept = rng.randrange(len(DEPARTMENTS))
        yield {
            "email": emails[i],
            "display_name": name,
            "role": "mentor" if mentor else "mentee",
            "skills_offered": offered,
            "skills_wanted": wanted,
            "career_goals": pick_tags(rng, CAREER_GOALS, 1, 3),
            "interests": pick_tags(rng, INTERESTS, 0, 4),
            "department": DEPARTMENTS[(dept + shift) % len(DEPARTMENTS)],
            "seniority_level": str(level),
            "seniority_years": str(years),
            "time_zone": tz,
            "languages": ";".join(langs),
            "availability": availability(rng),
            "manager_email": manager,
            "capacity": str(rng.randint(1, 4)) if mentor else "",
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", "--rows", type=int, default=10000, help="number of rows (default 10000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--shift-departments", type=int, default=0, metavar="K",
                    help="move every row's department K places along the list (default 0)")
    ap.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
    args = ap.parse_args()
    if args.rows < 1:
        ap.error("--rows must be at least 1")
    if args.shift_departments % len(DEPARTMENTS) == 0 and args.shift_departments != 0:
        ap.error("--shift-departments must not be a multiple of %d" % len(DEPARTMENTS))

    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8", newline="")
    try:
        w = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
        w.writeheader()
        for row in generate(args.rows, args.seed, args.shift_departments):
            w.writerow(row)
    finally:
        if out is not sys.stdout:
            out.close()


if __name__ == "__main__":
    main()
