"""docs/ARCHITECTURE.md's import rule, checked: a layer imports only the layers to its left."""

import ast
from pathlib import Path

import lstmtune

ROOT = Path(lstmtune.__file__).parent
SHARED = {"errors", "_files", "_json", "_version"}
ALLOWED = {
    "data": set(),
    "engine": set(),
    "evaluation": {"data", "engine"},
    "experiment": {"data", "engine", "evaluation"},
    "model": {"data", "engine", "evaluation", "experiment"},
    "search": {"data", "engine", "evaluation", "experiment", "model"},
    "report": {"data", "engine", "evaluation", "experiment", "model", "search"},
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
        out |= {n.split(".")[1] for n in names if n.startswith("lstmtune.")}
    return out


def test_layers_import_only_to_their_left():
    bad = []
    for layer, allowed in ALLOWED.items():
        for path in (ROOT / layer).rglob("*.py"):
            for used in _imports(path) - allowed - SHARED - {layer}:
                bad.append(f"{path.relative_to(ROOT)} imports lstmtune.{used}")
    assert not bad, "\n".join(bad)


def test_the_engine_knows_no_pandas_optuna_or_data():
    for path in (ROOT / "engine").rglob("*.py"):
        text = path.read_text()
        assert "import pandas" not in text and "import optuna" not in text, path
