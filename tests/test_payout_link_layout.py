"""The layout of `payout.link`: five files around a core that declares its hooks."""

import ast
from collections import defaultdict
from pathlib import Path

from odoo.tests import BaseCase, tagged

MODELS = Path(__file__).parent.parent / "models"
CORE = "payout_link.py"
ONCE = ("create", "write", "unlink", "_claim")


def _link_classes():
    """{file name: the payout.link class nodes it declares or inherits}."""
    classes = defaultdict(list)
    for path in sorted(MODELS.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ClassDef):
                continue
            for statement in node.body:
                if (isinstance(statement, ast.Assign)
                        and statement.targets[0].id in ("_name", "_inherit")
                        and isinstance(statement.value, ast.Constant)
                        and statement.value.value == "payout.link"):
                    classes[path.name].append(node)
    return classes


@tagged("post_install", "-at_install")
class TestPayoutLinkLayout(BaseCase):
    """payout.link is declared or inherited in at most five files, its fields are all
    declared in the core, no method is defined in more than two files, and create, write,
    unlink and _claim are each defined once."""

    def test_five_files_fields_in_the_core_methods_in_two_at_most(self):
        classes = _link_classes()
        self.assertLessEqual(len(classes), 5, sorted(classes))
        self.assertIn(CORE, classes)
        methods = defaultdict(set)
        for name, nodes in classes.items():
            for node in nodes:
                for statement in node.body:
                    if isinstance(statement, ast.FunctionDef):
                        methods[statement.name].add(name)
                    elif name != CORE and isinstance(statement, ast.Assign) and isinstance(
                            statement.value, ast.Call) and getattr(
                            statement.value.func, "attr", "")[:1].isupper():
                        self.fail(f"{name} declares the field {statement.targets[0].id}")
        spread = {method: files for method, files in methods.items() if len(files) > 2}
        self.assertFalse(spread, "methods defined in more than two files")
        for method in ONCE:
            self.assertEqual(len(methods[method]), 1, f"{method}: {methods[method]}")
