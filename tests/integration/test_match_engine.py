"""The matching engine against an independent exact solver.

Random medium instances (300 mentees, 80 mentors with capacities 1-4, every
profile factor, some hard rules) go through match_tool, which prints the
engine's assignment and every pair's score. SciPy's linear_sum_assignment
then solves the same problem from those scores, with each mentor expanded
into one column per place of capacity and one dummy column per mentee for
"unmatched", and the two optimal values must be equal:

  participation objective: the number of pairs first, then the total score
    (each pair weighs 10000 x (mentees + 1) + score, so that one more pair
    outweighs any difference in score);
  score objective: the total score first, then the number of pairs (each
    pair weighs score x (mentees + 1) + 1); pairs scoring 0 are not allowed.

The stable solver's output is checked for blocking pairs over the same
scores. Needs python3-scipy (scripts/install-deps.sh test installs it).
"""

import json
import os
import random
import subprocess

import pytest

np = pytest.importorskip("numpy")
scipy_optimize = pytest.importorskip("scipy.optimize")

N_MENTEES = 300
N_MENTORS = 80


def match_tool():
    build = os.environ.get("MENTORD_BUILD_DIR")
    if not build:
        here = os.path.dirname(os.path.abspath(__file__))
        build = os.path.join(here, "..", "..", "build")
    path = os.path.join(build, "match_tool")
    if not os.access(path, os.X_OK):
        pytest.fail("match_tool not built at %s" % path)
    return path


def person_line(rng, kind, uid, capacity=None):
    fields = ["%s %d" % (kind, uid)]
    skills = {}
    for _ in range(rng.randint(0, 5)):
        skills[rng.randint(1, 25)] = rng.randint(1, 5)
    if skills:
        fields.append("skills=" + ",".join("%d:%d" % kv for kv in sorted(skills.items())))
    for key, vocab in (("goals", 8), ("interests", 15), ("languages", 4)):
        ids = sorted({rng.randint(1, vocab) for _ in range(rng.randint(0, 4))})
        if ids:
            fields.append("%s=%s" % (key, ",".join(map(str, ids))))
    if rng.random() < 0.95:
        fields.append("department=%d" % rng.randint(1, 6))
    if rng.random() < 0.9:
        fields.append("seniority=%d" % rng.randint(1, 10))
    if rng.random() < 0.9:
        fields.append("tz=%d" % rng.choice([-480, -300, 0, 60, 330, 540]))
    if rng.random() < 0.85:
        start = rng.randint(0, 160)
        fields.append("avail=%d-%d" % (start, min(167, start + rng.randint(0, 12))))
    if capacity is not None:
        fields.append("capacity=%d" % capacity)
    return " ".join(fields)


def make_instance(seed, objective):
    rng = random.Random(seed)
    weights = [rng.randint(0, 60) for _ in range(9)]
    lines = ["settings weights=%s objective=%s threads=2" % (",".join(map(str, weights)), objective)]
    mentors = list(range(1, N_MENTORS + 1))
    mentees = list(range(1001, 1001 + N_MENTEES))
    for uid in mentors:
        lines.append(person_line(rng, "mentor", uid, capacity=rng.randint(1, 4)))
    for uid in mentees:
        lines.append(person_line(rng, "mentee", uid))
    for _ in range(N_MENTEES):
        kind = rng.choice(["history", "excluded", "mentee-avoids", "mentor-avoids", "rank"])
        fact = "fact %s %d %d" % (kind, rng.choice(mentees), rng.choice(mentors))
        if kind == "rank":
            fact += " %d" % rng.randint(1, 3)
        lines.append(fact)
    return "\n".join(lines) + "\n"


def run_tool(tmp_path, text, solver):
    path = tmp_path / "instance.txt"
    path.write_text(text)
    out = subprocess.run([match_tool(), "--json", "--matrix", "--solver", solver, str(path)],
                         check=True, capture_output=True, text=True, timeout=120)
    return json.loads(out.stdout)


def capacities(text):
    caps = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "mentor":
            for field in parts[2:]:
                if field.startswith("capacity="):
                    caps[int(parts[1])] = int(field.split("=")[1])
    return caps


def scipy_optimum(result, caps, objective):
    """(first, second) of the optimum: (pairs, score) or (score, pairs)."""
    matrix = result["matrix"]
    mentors = result["mentors"]
    n = len(matrix)
    columns = [j for j, uid in enumerate(mentors) for _ in range(caps[uid])]
    big = n + 1
    cost = np.zeros((n, len(columns) + n))
    for i, row in enumerate(matrix):
        for c, j in enumerate(columns):
            s = row[j]
            if s is None:
                continue  # like the dummy columns: unmatched
            if objective == "participation":
                cost[i, c] = -(10000 * big + s)
            else:
                cost[i, c] = -(s * big + 1)
    rows, cols = scipy_optimize.linear_sum_assignment(cost)
    pairs = score = 0
    for i, c in zip(rows, cols):
        if c < len(columns) and matrix[i][columns[c]] is not None:
            pairs += 1
            score += matrix[i][columns[c]]
    return (pairs, score) if objective == "participation" else (score, pairs)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("objective", ["participation", "score"])
def test_optimal_equals_scipy(tmp_path, seed, objective):
    text = make_instance(seed * 7919, objective)
    result = run_tool(tmp_path, text, "optimal")
    engine = (result["new_pairs"], result["new_score"])
    if objective == "score":
        engine = (result["new_score"], result["new_pairs"])
    expected = scipy_optimum(result, capacities(text), objective)
    assert engine == expected
    # Every pair is allowed, with the score the matrix gives it.
    index = {uid: i for i, uid in enumerate(result["mentees"])}
    column = {uid: j for j, uid in enumerate(result["mentors"])}
    for p in result["pairs"]:
        assert result["matrix"][index[p["mentee"]]][column[p["mentor"]]] == p["score"]


@pytest.mark.parametrize("seed", [4, 5])
def test_stable_has_no_blocking_pair(tmp_path, seed):
    text = make_instance(seed * 104729, "participation")
    result = run_tool(tmp_path, text, "stable")
    caps = capacities(text)
    mentees, mentors, matrix = result["mentees"], result["mentors"], result["matrix"]
    held = {}  # mentee -> (score, mentor id) of its pair
    load = {}  # mentor -> list of (score, mentee id)
    for p in result["pairs"]:
        held[p["mentee"]] = (p["score"], p["mentor"])
        load.setdefault(p["mentor"], []).append((p["score"], p["mentee"]))
    for i, e in enumerate(mentees):
        for j, r in enumerate(mentors):
            s = matrix[i][j]
            if s is None or held.get(e, (None, None))[1] == r:
                continue
            mentee_wants = e not in held or (s, -r) > (held[e][0], -held[e][1])
            pairs = load.get(r, [])
            mentor_wants = len(pairs) < caps[r] or any((s, -e) > (ps, -pe) for ps, pe in pairs)
            assert not (mentee_wants and mentor_wants), "blocking pair (%d, %d)" % (e, r)
