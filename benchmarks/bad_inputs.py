"""Issue 22's catalogue of bad inputs (``tests/cli/_bad_cases.py``: panels, classification,
model directories of the three kinds, storages and workers), run outside pytest: each case in
its own empty folder, in this process, with ``lstmtune.cli.main``.

Per case it records the exit code, the stderr lines (warnings and log records counted as
lines), whether a traceback came out, the paths written, changed or removed in the folder,
the seconds the command took and the first line; a case passes when ``judge`` finds nothing
wrong (exit 2, one whole sentence of at most 400 characters naming what the case expects,
nothing on stdout, nothing left behind). It prints one JSON object on stdout (``cases``,
``passed``, ``failed``, ``skipped``, ``rows``) and the markdown table of the cases on stderr
(or into ``--markdown FILE``).

    .venv/bin/python benchmarks/bad_inputs.py [--quick] [--only WORD] [--markdown cases.md]

``--quick`` runs one case of each group; ``--only`` the cases whose name or group holds
WORD. The three models are trained first (about 30 s).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root: tests/

from benchmarks._common import log, parser  # noqa: E402
from tests.cli._bad_cases import CASES, build_models, judge, run_case  # noqa: E402


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[dict]) -> str:
    head = ("| # | case | group | exit | stderr lines | traceback | left behind | s | passed "
            "| message (first 120 characters) |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
    body = "".join(
        f"| {i} | {_cell(r['case'])} | {r['group']} | {r['exit']} | {r['stderr_lines']} | "
        f"{'yes' if r['traceback'] else 'no'} | {_cell(', '.join(r['left_behind'])) or '—'} | "
        f"{r['seconds']:.2f} | {'skipped' if r['skipped'] else 'yes' if r['passed'] else 'no'} "
        f"| {_cell(r['message'][:120])} |\n"
        for i, r in enumerate(rows, 1))
    return head + body


def main() -> None:
    ap = parser(__doc__.splitlines()[0])
    ap.add_argument("--only", metavar="WORD", help="cases whose name or group holds WORD")
    ap.add_argument("--markdown", metavar="FILE", help="write the table into FILE")
    args = ap.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name or args.only in c.group]
    if args.quick:
        seen: set[str] = set()
        cases = [c for c in cases if c.group not in seen and not seen.add(c.group)]
    rows = []
    with tempfile.TemporaryDirectory(prefix="lstmtune-bad-") as tmp:
        start = time.perf_counter()
        models = build_models(Path(tmp) / "models")
        log(f"models trained in {time.perf_counter() - start:.1f} s")
        for k, case in enumerate(cases):
            result = run_case(case, Path(tmp) / f"case{k}", models)
            problems = judge(result)
            line = result.line or (result.traceback.strip().splitlines() or [""])[-1]
            rows.append({
                "case": case.name, "group": case.group, "exit": result.code,
                "stderr_lines": len(result.lines), "traceback": bool(result.traceback)
                or "Traceback" in result.err, "left_behind": result.changed,
                "seconds": round(result.seconds, 3), "skipped": result.skipped,
                "passed": not problems and not result.skipped, "problems": problems,
                "message": line.removeprefix("lstmtune: error: ")})
            log(f"{'skip' if result.skipped else 'ok  ' if not problems else 'FAIL'} "
                f"{case.name}: {'; '.join(problems) or line[:100]}")
    table = markdown(rows)
    if args.markdown:
        Path(args.markdown).write_text(table)
    log(table)
    print(json.dumps({
        "cases": len(rows), "passed": sum(r["passed"] for r in rows),
        "failed": sum(not r["passed"] and not r["skipped"] for r in rows),
        "skipped": sum(bool(r["skipped"]) for r in rows),
        "slowest": max((r["seconds"], r["case"]) for r in rows) if rows else None,
        "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
