"""The plain pytest files, under Odoo's own test runner.

bin/test (pytest with pytest-odoo) collects test_protocol_* and test_sandbox_* itself. Odoo's
runner (`odoo -i hr_payout_link --test-enable`) only runs the TestCase classes of the
modules that tests/__init__.py imports; Odoo 18's loader ignores a module's `load_tests`
(odoo/tests/loader.py), so OCA queue_job's `load_tests = load_doctests(...)` shim would
not run there. This class is that shim: it runs each plain file through pytest in a
subprocess, where its fixtures and parametrized cases work as under bin/test, and fails
with pytest's report. pytest itself skips the class (`__test__ = False`), so bin/test runs
each plain test once.
"""

import importlib.util
import inspect
import logging
import os
import subprocess
import sys
from pathlib import Path

from odoo.tests import BaseCase, tagged

import odoo.addons

_logger = logging.getLogger(__name__)

TESTS_DIR = Path(__file__).parent
PLAIN_FILES = (
    "test_install_layouts.py",
    "test_protocol_concurrency.py",
    "test_protocol_doku_answers.py",
    "test_protocol_doku_bodies.py",
    "test_protocol_doku_signature.py",
    "test_protocol_doku_snap.py",
    "test_protocol_xendit_errors.py",
    "test_protocol_xendit_requests.py",
    "test_protocol_xendit_statuses.py",
)
TIMEOUT = 600  # seconds for one file

# What the subprocess runs: this addon importable as odoo.addons.hr_payout_link, the test
# framework allowed (Odoo logs an error when it is imported outside test mode), then pytest
# without pytest-odoo (which would load a registry) but with its naming of test modules.
_CHILD = """
import os
import sys
import odoo.addons
import odoo.tools
odoo.addons.__path__[:] = sys.argv[1].split(os.pathsep)
odoo.tools.config["test_enable"] = True
import pytest
import pytest_odoo
pytest_odoo.monkey_patch_resolve_pkg_root_and_module_name()
sys.exit(pytest.main(sys.argv[2:]))
"""
_PYTEST_ARGS = (
    "-p", "no:odoo", "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning",
    "-q", "-rfE", "--tb=short", "--color=no",
)


@tagged("post_install", "-at_install")
class TestPlainPytest(BaseCase):
    """Each plain pytest file passes under pytest, run from Odoo's test runner."""

    __test__ = False  # pytest collects the plain files directly

    def test_plain_pytest_files(self):
        missing = [name for name in ("pytest", "pytest_odoo") if not importlib.util.find_spec(name)]
        if missing:
            self.skipTest(f"{' and '.join(missing)} not installed (test-requirements.txt)")
        for name in PLAIN_FILES:
            with self.subTest(file=name):
                self._run_pytest(TESTS_DIR / name)

    def test_every_plain_file_is_listed(self):
        """A test file that tests/__init__.py does not import is a plain one: it must be in
        PLAIN_FILES, or Odoo's runner would never run it."""
        package = sys.modules[__package__]
        imported = {name for name, _module in inspect.getmembers(package, inspect.ismodule)}
        plain = {path.name for path in TESTS_DIR.glob("test_*.py") if path.stem not in imported}
        self.assertEqual(plain, set(PLAIN_FILES))

    def _run_pytest(self, path):
        result = subprocess.run(
            [sys.executable, "-c", _CHILD, os.pathsep.join(odoo.addons.__path__),
             *_PYTEST_ARGS, str(path)],
            capture_output=True, text=True, timeout=TIMEOUT, check=False,
        )
        lines = result.stdout.strip().splitlines()
        _logger.info("pytest %s: %s", path.name, lines[-1] if lines else "no output")
        if result.returncode:
            self.fail(f"pytest {path.name} exited with {result.returncode}:\n"
                      f"{result.stdout[-20000:]}{result.stderr[-5000:]}")
