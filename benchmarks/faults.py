"""Issue 15's fault injection at its full size, on every storage: a 60-trial TPE study run by
3 workers while a random live worker is killed (SIGKILL) at 10 random moments (1-4 s apart)
(preferring one that has run for 6 s, past its start-up) and another is started in its place,
and the storage made unavailable once after half the kills:

- PostgreSQL (a throwaway local server from the tests' harness): 3 `lstmtune tune`
  processes on one database; the server stopped (`pg_ctl stop -m fast`) and started again
  5 s later;
- SQLite and the journal file: one `lstmtune tune --workers 3`, its workers killed; for
  SQLite the file is held under an exclusive lock for 5 s by another connection (the
  file's equivalent of a database away; the journal file has no such state).

Per storage it prints what ``tests/search/test_faults.py`` asserts: exit codes of the
processes not killed (a worker that was still starting up when the database went away is
refused in one line, exit 2, as any worker started then: counted apart), tracebacks,
COMPLETE + PRUNED + genuinely FAILED against the budget, trials left RUNNING or WAITING,
interrupted trials whose parameters no later trial ran, queued parameter sets run twice,
and how many worker processes ran trials; and whether a retry message was printed.  The
reference is the same study run by one undisturbed process (its wall time), so
``slowdown`` = faulty run / clean run.

    .venv/bin/python benchmarks/faults.py [--quick] [--only postgresql,sqlite,journal]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' harness
from _common import emit, log, parser  # noqa: E402

from tests.search.test_faults import refused_while_away, run_faults  # noqa: E402

ap = parser(__doc__.splitlines()[0])
ap.add_argument("--only", default="postgresql,sqlite,journal")
args = ap.parse_args()
TRIALS, KILLS = (16, 3) if args.quick else (60, 10)


def summary(r: dict) -> dict:
    return {"seconds": round(r["seconds"], 1), "killed": r["killed"],
            "bad_exit": sum(c != 0 for c in r["codes"]) - refused_while_away(r),
            "refused_while_away": refused_while_away(r), "exit_lines": r["failed_lines"],
            "tracebacks": sum("Traceback" in x for x in r["logs"]),
            "retry_messages": sum("cannot be reached" in x for x in r["logs"]),
            "complete": r["complete"], "pruned": r["pruned"], "failed": r["failed"],
            "interrupted_then_rerun": r["interrupted"], "budget": r["trials"],
            "exact_budget": r["complete"] + r["pruned"] + r["failed"] == r["trials"],
            "left_running": r["running"], "left_waiting": r["waiting"],
            "not_retried": len(r["not_retried"]), "queued_twice": r["queued_twice"],
            "worker_processes": r["worker_processes"],
            "storage_away_at_s": None if r["restarted_at"] is None
            else round(r["restarted_at"], 1)}


def hold_sqlite(path: Path, seconds: float = 5.0):
    def restart():
        def hold():
            con = sqlite3.connect(path, timeout=60)
            con.execute("BEGIN EXCLUSIVE")
            time.sleep(seconds)
            con.rollback()
            con.close()

        threading.Thread(target=hold, daemon=True).start()

    return restart


def main() -> None:
    out = {"trials": TRIALS, "kills": KILLS, "workers": 3}
    only = args.only.split(",")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clean = run_faults(tmp / "clean", f"sqlite:///{tmp / 'clean.db'}", workers=1,
                           trials=TRIALS, kills=0)
        out["reference_one_clean_process_s"] = round(clean["seconds"], 1)
        log(f"reference: {clean['seconds']:.1f} s")
        if "postgresql" in only:
            from tests._postgres import PostgresServer, postgres_missing_reason

            reason = postgres_missing_reason()
            if reason:
                out["postgresql"] = {"skipped": reason}
            else:
                with PostgresServer() as pg:
                    def restart():  # pg_ctl stop -m fast, 5 s away, pg_ctl start
                        pg.stop()
                        time.sleep(5.0)
                        pg.start()

                    r = run_faults(tmp / "pg", pg.create_database("faults"), trials=TRIALS,
                                   kills=KILLS, restart=restart)
                    out["postgresql"] = summary(r)
        if "sqlite" in only:
            db = tmp / "sqlite" / "study.db"
            db.parent.mkdir()
            r = run_faults(tmp / "sqlite", f"sqlite:///{db}", trials=TRIALS, kills=KILLS,
                           cli_workers=True, restart=hold_sqlite(db))
            out["sqlite"] = summary(r)
        if "journal" in only:
            r = run_faults(tmp / "journal", f"journal:///{tmp / 'study.log'}", trials=TRIALS,
                           kills=KILLS, cli_workers=True)
            out["journal"] = summary(r)
        for kind in ("postgresql", "sqlite", "journal"):
            if isinstance(out.get(kind), dict) and "seconds" in out[kind]:
                out[kind]["slowdown"] = round(out[kind]["seconds"] /
                                              out["reference_one_clean_process_s"], 2)
                log(f"{kind}: {out[kind]}")
    emit(out)


main()
