"""bin/run and bin/test with Odoo laid out as an upstream checkout of odoo/odoo at 18.0
(the core's odoo/addons holds only base; web, mail, hr and portal are in the top-level
addons/), and the setup of Odoo the upstream way when none is installed.

Plain pytest: the layouts are built in a temporary folder from the Odoo that runs the
tests (links, no copy), and the "upstream" clone comes from a local git repository.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# What odoo-bin does (Odoo's own is these lines and a comment).
ODOO_BIN = ("#!/usr/bin/env python3\nimport odoo\n\n"
            "if __name__ == '__main__':\n    odoo.cli.main()\n")


def _installed_odoo():
    odoo = pytest.importorskip("odoo")
    return Path(odoo.__file__).resolve().parent


def _upstream_layout(root):
    """An upstream-shaped Odoo in ``root``: odoo/ with only base in odoo/addons, and every
    other addon in addons/."""
    package = _installed_odoo()
    core = root / "odoo"
    core.mkdir(parents=True)
    for entry in package.iterdir():
        if entry.name != "addons":
            (core / entry.name).symlink_to(entry)
    (core / "addons").mkdir()
    (core / "addons" / "__init__.py").write_text((package / "addons" / "__init__.py").read_text())
    (core / "addons" / "base").symlink_to(package / "addons" / "base")
    (root / "addons").mkdir()
    for addon in (package / "addons").iterdir():
        if addon.is_dir() and addon.name not in ("base", "__pycache__"):
            (root / "addons" / addon.name).symlink_to(addon)
    (root / "odoo-bin").write_text(ODOO_BIN)
    (root / "odoo-bin").chmod(0o755)
    return root


def _source_env(env, script="echo \"$ADDONS_PATH\""):
    """Source bin/_odoo_env.sh as bin/test does, then run ``script``."""
    result = subprocess.run(
        ["bash", "-c", f'source "{REPO}/bin/_odoo_env.sh" && {script}'],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def _missing_dependencies(odoo_root, addons_path):
    """The addons hr_payout_link needs (recursively) that ``addons_path`` does not hold."""
    manifest = ast.literal_eval((REPO / "__manifest__.py").read_text())
    code = f"""
import ast, os
from odoo.tools import config
config.parse_config(["--addons-path", {addons_path!r}], setup_logging=False)
from odoo.modules import module
module.initialize_sys_path()
todo, seen, missing = list({manifest["depends"]!r}), set(), []
while todo:
    name = todo.pop()
    if name in seen:
        continue
    seen.add(name)
    path = module.get_module_path(name, display_warning=False)
    if not path:
        missing.append(name)
        continue
    todo += module.get_manifest(name).get("depends", [])
print(sorted(missing))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(odoo_root)}, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


def test_upstream_checkout_gives_its_addons_folder(tmp_path):
    root = _upstream_layout(tmp_path / "odoo18")
    addons_path = _source_env({"ODOO_BIN": str(root / "odoo-bin")})
    folders = addons_path.split(",")
    assert str(root / "odoo" / "addons") in folders
    assert str(root / "addons") in folders, "web, mail, hr and portal live there"
    assert folders[-1] == str(REPO / ".build" / "addons")
    assert _missing_dependencies(root, addons_path) == []


def test_core_alone_would_miss_the_addons(tmp_path):
    """What the scripts did before: the core's odoo/addons alone has none of them."""
    root = _upstream_layout(tmp_path / "odoo18")
    missing = _missing_dependencies(root, f"{root / 'odoo' / 'addons'},{REPO / '.build/addons'}")
    assert {"mail", "hr", "portal"} <= set(missing)


def test_installed_odoo_keeps_working():
    """Odoo installed as a package (pip, a wheel, the nightly build): its default path."""
    package = _installed_odoo()
    addons_path = _source_env({"ODOO_BIN": ""})
    assert str(package / "addons") in addons_path.split(",")


def test_missing_odoo_is_cloned_the_upstream_way(tmp_path):
    """No Odoo and no ODOO_BIN: the setup clones ODOO_GIT_URL's 18.0 into .build/odoo and
    installs its requirements, cbor2 fixed for Python 3.11."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "odoo-bin").write_text(ODOO_BIN)
    (upstream / "odoo-bin").chmod(0o755)
    # Requirements that are installed here already: the setup runs pip, which has nothing
    # to download.
    (upstream / "requirements.txt").write_text("cbor2==5.4.2 ; python_version < '3.12'\n")
    git = ["git", "-C", str(upstream), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git[:3], "init", "-q", "-b", "18.0"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "18.0"], check=True)
    build = tmp_path / "build"
    build.mkdir()
    script = (f'BUILD="{build}"; PYTHON="{sys.executable}"; '
              f'source "{REPO}/bin/_setup_odoo.sh"; echo "$ODOO_BIN"')
    result = subprocess.run(["bash", "-c", f"set -euo pipefail; {script}"],
                            env={**os.environ, "ODOO_GIT_URL": f"file://{upstream}"},
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(build / "odoo" / "odoo-bin")
    assert (build / "odoo" / "odoo-bin").read_text() == ODOO_BIN
    assert (build / "odoo-requirements.txt").read_text() == (
        "cbor2==5.4.6 ; python_version < '3.12'\n")

    result = subprocess.run(["bash", "-c", f"set -euo pipefail; {script}"],
                            env={**os.environ, "ODOO_GIT_URL": "file:///nowhere"},
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, "a second run reuses the checkout, cloning nothing"

    result = subprocess.run(
        ["bash", "-c", (f'set -euo pipefail; BUILD="{tmp_path / "other"}"; PYTHON=python3; '
                        f'source "{REPO}/bin/_setup_odoo.sh"')],
        env={**os.environ, "ODOO_GIT_URL": "file:///nowhere"}, capture_output=True, text=True,
        timeout=60, check=False)
    assert result.returncode == 3
    assert "cannot clone file:///nowhere" in result.stderr
