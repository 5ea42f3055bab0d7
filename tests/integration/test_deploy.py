"""Deployment files: docker-compose.yml is valid for Debian's docker-compose
(no container engine runs here, so it is checked, not started), and the
Dockerfile installs what the build needs: every build package of
scripts/install-deps.sh in the build stage, and for every -dev library the
runtime library it depends on in the final stage."""

import os
import re
import shutil
import subprocess

import pytest

import harness

ROOT = harness.SOURCE_DIR


def stage_packages(dockerfile_text):
    """The packages each `apt-get install` of the Dockerfile names, per stage."""
    stages = []
    for stage in re.split(r"^FROM ", dockerfile_text, flags=re.M)[1:]:
        pkgs = set()
        for m in re.finditer(r"apt-get install([^&]*)", stage.replace("\\\n", " ")):
            pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
        stages.append(pkgs)
    return stages


def build_packages():
    text = open(os.path.join(ROOT, "scripts", "install-deps.sh")).read()
    m = re.search(r"BUILD_PKGS=\(([^)]*)\)", text)
    return set(m.group(1).split())


def test_compose_file_is_valid():
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is not installed (scripts/install-deps.sh test installs it)")
    cp = subprocess.run(["docker-compose", "-f", os.path.join(ROOT, "docker-compose.yml"),
                         "config"], capture_output=True, text=True, timeout=60,
                        cwd=ROOT)
    assert cp.returncode == 0, cp.stderr
    for service in ("postgres:", "mentord:"):
        assert service in cp.stdout
    assert "MENTORD_DB_URL" in cp.stdout


def test_dockerfile_installs_what_the_build_needs():
    build, runtime = stage_packages(open(os.path.join(ROOT, "Dockerfile")).read())
    # PostgreSQL itself runs in its own container.
    missing = build_packages() - {"postgresql"} - build
    assert not missing, "the Dockerfile's build stage lacks %s" % sorted(missing)
    for dev in sorted(p for p in build if p.endswith("-dev")):
        cp = subprocess.run(["apt-cache", "depends", dev], capture_output=True, text=True,
                            timeout=60)
        assert cp.returncode == 0, cp.stderr
        libs = {line.split(":", 1)[1].strip() for line in cp.stdout.splitlines()
                if line.strip().startswith("Depends:")}
        libs = {p for p in libs if p.startswith("lib") and not p.endswith("-dev")}
        if libs:
            assert libs & runtime, "%s needs one of %s in the runtime stage" % (dev, sorted(libs))
