"""The storage one lstmtune worker uses: Optuna's storage for the study, with this process's
running trials served from memory and written through in few transactions.

A trial's life in a worker is short and private until it finishes: its parameters are drawn
(one write each through Optuna), its worker is named, a pruner's reports arrive per chunk, its
member scores are stored, and it is told.  Through Optuna's RDB storage each of those is a
transaction, and every read of the study (TPE reads it once per parameter) fetches every
unfinished trial again: 50–90 ms per trial on SQLite at 1,000 trials of the default space.
:class:`WorkerStorage` is a :class:`optuna.storages.BaseStorage` in front of Optuna's own
storage (``RDBStorage`` behind Optuna's cache, ``JournalStorage`` or ``InMemoryStorage``)
that

- keeps **this process's running trials** in memory: they are made together
  (:meth:`reserve`), and their writes are collected and written in one transaction (one
  block of journal records) per step: parameters and worker right after the batch is
  claimed (:meth:`flush`, so that a killed worker's trial can be run again with its
  parameters), then reports, attributes, values and states when the batch's population has
  been told (both are :meth:`batch` blocks of the search; outside one every write goes to
  the backend when it is made, as through Optuna's own storage);
- reads **the rest of the study** at :meth:`refresh` only (the search calls it when it claims
  a batch, under the claim lock, and before the final evaluation), so a sampler or pruner
  sees other workers' trials as they were at the last claim and its own as they are;
- retries a call that fails because the database cannot be reached (a server restarting,
  a network drop) every few seconds, saying so once, for up to :data:`RETRY_FOR_S`.

Other processes see a running trial's parameters and worker after its batch is claimed, its
reports and attributes when it finishes.  Optuna's pruners compare with finished trials,
which are written whole.  A process killed mid-trial leaves the trial RUNNING with its
parameters; the next claim of any worker fails it and queues its parameters again
(``_storage.recover_stale``).
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Container, Iterator, Sequence
from typing import Any

import optuna
from optuna.distributions import BaseDistribution
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

__all__ = ["WorkerStorage", "BatchRDBStorage", "BatchJournalStorage", "is_unreachable",
           "retrying", "RETRY_EVERY_S", "RETRY_FOR_S"]

RETRY_EVERY_S = 3.0  # a storage that cannot be reached is tried again this often ...
RETRY_FOR_S = 600.0  # ... for this long, then the error stands


class BatchRDBStorage(RDBStorage):
    """Optuna's RDB storage with two more writes, each one transaction: several trials'
    parameters, attributes, reports, values and states (:meth:`write_trials`: one statement
    per table, not one transaction per item), and a new trial returned whole
    (:meth:`new_trial`, Optuna's own creation, without reading it back)."""

    def new_trial(self, study_id: int, template: FrozenTrial | None = None) -> FrozenTrial:
        return self._create_new_trial(study_id, template)

    def new_trials(self, study_id: int, n: int,
                   system_attrs: dict[str, Any] | None = None) -> list[FrozenTrial]:
        """``n`` new RUNNING trials, numbered in turn under the study's row lock, with
        ``system_attrs`` from their first moment."""
        import sqlalchemy as sa
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        with _create_scoped_session(self.scoped_session) as session:
            # as Optuna numbers one trial (count the study's earlier ones), for n: under the
            # study's row lock nobody else adds to the study, so they are numbered in turn
            models.StudyModel.find_or_raise_by_id(study_id, session, for_update=True)
            now = datetime.datetime.now()
            made = [models.TrialModel(study_id=study_id, number=None, state=TrialState.RUNNING,
                                      datetime_start=now) for _ in range(n)]
            session.add_all(made)
            session.flush()
            made.sort(key=lambda t: t.trial_id)
            first = made[0].count_past_trials(session)
            for k, t in enumerate(made):
                t.number = first + k
            attrs = dict(system_attrs or {})
            if attrs:
                session.execute(sa.insert(models.TrialSystemAttributeModel), [
                    {"trial_id": t.trial_id, "key": k, "value_json": json.dumps(v)}
                    for t in made for k, v in attrs.items()])
            return [FrozenTrial(number=t.number, state=TrialState.RUNNING, value=None,
                                values=None, datetime_start=t.datetime_start,
                                datetime_complete=None, params={}, distributions={},
                                user_attrs={}, system_attrs=dict(attrs),
                                intermediate_values={}, trial_id=t.trial_id) for t in made]

    def running_heartbeats(self, study_id: int) -> dict[int, Any]:
        """The study's RUNNING trials and their last heartbeat (None before the first)."""
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        t, h = models.TrialModel, models.TrialHeartbeatModel
        with _create_scoped_session(self.scoped_session) as session:
            rows = (session.query(t.trial_id, h.heartbeat)
                    .outerjoin(h, h.trial_id == t.trial_id)
                    .filter(t.study_id == study_id, t.state == TrialState.RUNNING).all())
        return {trial_id: beat for trial_id, beat in rows}

    def record_heartbeats(self, trial_ids: Sequence[int]) -> None:
        """Optuna's heartbeat (:meth:`record_heartbeat`: the database's time now) for
        several trials in one transaction."""
        import sqlalchemy as sa
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        if not trial_ids:
            return
        m = models.TrialHeartbeatModel
        with _create_scoped_session(self.scoped_session, True) as session:
            session.execute(sa.delete(m).where(m.trial_id.in_(list(trial_ids))))
            session.execute(sa.insert(m), [{"trial_id": i} for i in trial_ids])

    def write_trials(self, writes: Sequence[_Pending]) -> None:
        from sqlalchemy.exc import IntegrityError

        try:
            self._write_rows(writes, replace=False)
        except IntegrityError:
            # a row is there already: an attribute set again, or this very write retried
            # after a lost connection whose commit went through; rows replaced, not doubled
            self._write_rows(writes, replace=True)

    def _write_rows(self, writes: Sequence[_Pending], replace: bool) -> None:
        import sqlalchemy as sa
        from optuna.distributions import distribution_to_json
        from optuna.storages._rdb import models
        from optuna.storages._rdb.storage import _create_scoped_session

        def put(model, column, rows: list[dict], key: str) -> None:
            if rows:
                if replace:
                    _delete(session, model, column, [(r["trial_id"], r[key]) for r in rows])
                session.execute(sa.insert(model), rows)

        ids = [w.trial_id for w in writes]
        with _create_scoped_session(self.scoped_session) as session:
            trials = {t.trial_id: t for t in session.query(models.TrialModel)
                      .filter(models.TrialModel.trial_id.in_(ids)).with_for_update()}
            for w in writes:
                if w.trial_id not in trials:
                    raise KeyError(f"no trial with id {w.trial_id}")
                self.check_trial_is_updatable(w.trial_id, trials[w.trial_id].state)
            m = models.TrialParamModel
            put(m, m.param_name, [{"trial_id": w.trial_id, "param_name": name,
                                   "param_value": internal,
                                   "distribution_json": distribution_to_json(dist)}
                                  for w in writes for name, internal, dist in w.params],
                "param_name")
            for m, field in ((models.TrialUserAttributeModel, "user_attrs"),
                             (models.TrialSystemAttributeModel, "system_attrs")):
                put(m, m.key, [{"trial_id": w.trial_id, "key": k, "value_json": json.dumps(v)}
                               for w in writes for k, v in getattr(w, field).items()], "key")
            m = models.TrialIntermediateValueModel
            reports = []
            for w in writes:
                for step, value in w.intermediate.items():
                    stored, kind = m.intermediate_value_to_stored_repr(value)
                    reports.append({"trial_id": w.trial_id, "step": step,
                                    "intermediate_value": stored,
                                    "intermediate_value_type": kind})
            put(m, m.step, reports, "step")
            m = models.TrialValueModel
            values = []
            for w in writes:
                for objective, v in enumerate(w.values or ()):
                    stored, kind = m.value_to_stored_repr(v)
                    values.append({"trial_id": w.trial_id, "objective": objective,
                                   "value": stored, "value_type": kind})
            put(m, m.objective, values, "objective")
            now = datetime.datetime.now()
            for w in writes:
                if w.state is not None:
                    trials[w.trial_id].state = w.state
                    trials[w.trial_id].datetime_complete = now


class BatchJournalStorage(JournalStorage):
    """Optuna's journal storage with one more write: several trials' parameters,
    attributes, reports, values and states appended as one block of the journal's own
    records (one file lock and one ``fsync`` instead of one per item)."""

    def new_trial(self, study_id: int, template: FrozenTrial | None = None) -> FrozenTrial:
        return copy.deepcopy(self.get_trial(self.create_new_trial(study_id, template)))

    def new_trials(self, study_id: int, n: int,
                   system_attrs: dict[str, Any] | None = None) -> list[FrozenTrial]:
        made = [self.new_trial(study_id) for _ in range(n)]
        for t in made:
            for k, v in (system_attrs or {}).items():
                self.set_trial_system_attr(t._trial_id, k, v)
                t.system_attrs = {**t.system_attrs, k: v}
        return made

    def write_trials(self, writes: Sequence[_Pending]) -> None:
        from optuna.distributions import distribution_to_json
        from optuna.storages.journal._storage import JournalOperation as Op

        with self._thread_lock:
            self._sync_with_backend()
            for w in writes:  # the journal would ignore writes to a finished trial: say so
                trial = self._replay_result._trials.get(w.trial_id)
                if trial is None:
                    raise KeyError(f"no trial with id {w.trial_id}")
                self.check_trial_is_updatable(w.trial_id, trial.state)
            me = self._replay_result.worker_id
            logs: list[dict[str, Any]] = []
            for w in writes:
                base = {"worker_id": me, "trial_id": w.trial_id}
                logs += [{"op_code": Op.SET_TRIAL_PARAM, **base, "param_name": name,
                          "param_value_internal": internal,
                          "distribution": distribution_to_json(dist)}
                         for name, internal, dist in w.params]
                logs += [{"op_code": Op.SET_TRIAL_USER_ATTR, **base, "user_attr": {k: v}}
                         for k, v in w.user_attrs.items()]
                logs += [{"op_code": Op.SET_TRIAL_SYSTEM_ATTR, **base, "system_attr": {k: v}}
                         for k, v in w.system_attrs.items()]
                logs += [{"op_code": Op.SET_TRIAL_INTERMEDIATE_VALUE, **base, "step": step,
                          "intermediate_value": value}
                         for step, value in w.intermediate.items()]
                if w.state is not None:
                    logs.append({"op_code": Op.SET_TRIAL_STATE_VALUES, **base,
                                 "state": w.state,
                                 "values": None if w.values is None else list(w.values),
                                 "datetime_complete": datetime.datetime.now(
                                     tz=datetime.UTC).isoformat(
                                         timespec="microseconds")})
            self._backend.append_logs(logs)
            self._sync_with_backend()


def _delete(session, model, column, pairs: list[tuple[int, Any]], chunk: int = 200) -> None:
    """Delete ``model`` rows of these (trial id, ``column`` value) pairs, a few hundred per
    statement (SQLite's limit on bound values)."""
    import sqlalchemy as sa

    for i in range(0, len(pairs), chunk):
        session.execute(sa.delete(model).where(sa.or_(*(
            (model.trial_id == t) & (column == v) for t, v in pairs[i:i + chunk]))))


class _Pending:
    """One running trial's writes not yet in the backend (and, when it is told, its end)."""

    __slots__ = ("trial_id", "params", "user_attrs", "system_attrs", "intermediate", "state",
                 "values")

    def __init__(self, trial_id: int) -> None:
        self.trial_id = trial_id
        self.params: list[tuple[str, float, BaseDistribution]] = []
        self.user_attrs: dict[str, Any] = {}
        self.system_attrs: dict[str, Any] = {}
        self.intermediate: dict[int, float] = {}
        self.state: TrialState | None = None
        self.values: Sequence[float] | None = None

    def __bool__(self) -> bool:
        return bool(self.params or self.user_attrs or self.system_attrs or self.intermediate
                    or self.state is not None)


def is_unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the database could not be reached or the
    connection broke: the errors a retry can mend."""
    try:
        from sqlalchemy import exc as sa_exc
    except ImportError:  # pragma: no cover - SQLAlchemy comes with Optuna
        return False
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError |
                      sa_exc.DisconnectionError):
            text = str(exc).lower()
            # SQLite's "database is locked" waits in SQLite itself; a full disk is no outage
            return not any(s in text for s in ("locked", "disk", "readonly", "no such"))
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


_BACK_AT = [-math.inf]  # time.monotonic() when this process last reached a lost database


def retrying(call: Callable[[], Any], what: str, *, say: Callable[[str], None] | None = None,
             every: float = RETRY_EVERY_S, limit: float = RETRY_FOR_S) -> Any:
    """``call()``, tried again every ``every`` s while the database cannot be reached (said
    once on stderr, and again when it is back), for up to ``limit`` s."""
    say = say or _stderr
    start = None
    while True:
        try:
            out = call()
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            now = time.monotonic()
            if start is None:
                start = now
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
                say(f"lstmtune: the study's storage {what} cannot be reached ({first}); "
                    f"retrying every {every:g} s for up to {limit / 60:g} min")
            elif now - start > limit:
                raise
            time.sleep(every)
            continue
        if start is not None:
            _BACK_AT[0] = time.monotonic()
            say(f"lstmtune: the study's storage {what} is reachable again after "
                f"{time.monotonic() - start:.0f} s; continuing")
        return out


def _stderr(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


class WorkerStorage(BaseStorage):
    """Optuna's storage ``backend`` as one worker process uses it (module docstring).

    ``shown`` names the storage in messages (a URL without its password).  With
    ``heartbeat`` (a :class:`BatchRDBStorage` with ``heartbeat_interval``), the
    worker's running trials can be kept alive (:meth:`record_heartbeats`) and other
    machines' dead trials found (:meth:`stale_trial_ids`).  ``writer`` (a
    :class:`BatchRDBStorage` or :class:`BatchJournalStorage`, the backend itself or behind
    it) makes trials and writes many items in one go; without it every item is one call.
    """

    def __init__(self, backend: BaseStorage, shown: str = "",
                 heartbeat: BatchRDBStorage | None = None,
                 writer: BatchRDBStorage | BatchJournalStorage | None = None) -> None:
        self._backend = backend
        self._writer = writer  # many writes in one go (RDB, journal); else one call each
        self._heartbeat = heartbeat
        self.shown = shown
        self._own: dict[int, FrozenTrial] = {}  # this process's running trials, as they are
        self._pending: dict[int, _Pending] = {}
        self._seen: dict[int, dict[int, FrozenTrial]] = {}  # study -> trials at the refresh
        self._reserved: dict[int, list[int]] = {}  # study -> trials made ahead for `ask`
        self._deferred = 0  # inside batch(): finished trials are written when it ends
        self._beats: dict[int, tuple[Any, float]] = {}  # trial -> (heartbeat, first seen)
        self._lost = False  # a heartbeat could not reach the database
        self._mutex = threading.RLock()

    # -- reaching the backend ------------------------------------------------------------
    def _call(self, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return retrying(lambda: fn(*args, **kwargs), self.shown)

    @property
    def backend(self) -> BaseStorage:
        return self._backend

    # -- the study, read and written through ---------------------------------------------
    def create_new_study(self, directions: Sequence[StudyDirection],
                         study_name: str | None = None) -> int:
        return self._call(self._backend.create_new_study, directions, study_name)

    def delete_study(self, study_id: int) -> None:
        self._seen.pop(study_id, None)
        self._call(self._backend.delete_study, study_id)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._call(self._backend.set_study_user_attr, study_id, key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._call(self._backend.set_study_system_attr, study_id, key, value)

    def get_study_id_from_name(self, study_name: str) -> int:
        return self._call(self._backend.get_study_id_from_name, study_name)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._call(self._backend.get_study_name_from_id, study_id)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return self._call(self._backend.get_study_directions, study_id)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._call(self._backend.get_study_user_attrs, study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._call(self._backend.get_study_system_attrs, study_id)

    def get_all_studies(self) -> list[FrozenStudy]:
        return self._call(self._backend.get_all_studies)

    # -- trials ---------------------------------------------------------------------------
    def refresh(self, study_id: int) -> None:
        """Read the study's trials from the backend (other workers' changes since the last
        refresh); this process's running trials stay as they are here."""
        trials = self._call(self._backend.get_all_trials, study_id, deepcopy=False)
        with self._mutex:
            self._seen[study_id] = {t._trial_id: self._own.get(t._trial_id, t) for t in trials}

    def _trials(self, study_id: int) -> dict[int, FrozenTrial]:
        if study_id not in self._seen:
            self.refresh(study_id)
        return self._seen[study_id]

    def _hold(self, trial_id: int) -> FrozenTrial:
        """A trial this process now runs: read once, then kept here."""
        trial = copy.deepcopy(self._call(self._backend.get_trial, trial_id))
        with self._mutex:
            self._own[trial_id] = trial
            self._pending[trial_id] = _Pending(trial_id)
            study_id = self._study_of(trial)
            if study_id is not None:
                self._seen[study_id][trial_id] = trial
        return trial

    def _study_of(self, trial: FrozenTrial) -> int | None:
        for study_id, trials in self._seen.items():
            if trial._trial_id in trials:
                return study_id
        return None

    def reserve(self, study_id: int, n: int, system_attrs: dict[str, Any] | None = None
                ) -> None:
        """Make ``n`` trials ahead (with ``system_attrs``), in one transaction where the
        backend allows; the next ``n`` new trials of the study (``study.ask``) are these.
        :meth:`unreserve` gives back what was not asked."""
        if self._writer is None or n <= 0:
            return
        self._trials(study_id)
        made = self._call(self._writer.new_trials, study_id, n, system_attrs)
        with self._mutex:
            for trial in made:
                self._own[trial._trial_id] = trial
                self._pending[trial._trial_id] = _Pending(trial._trial_id)
                self._seen[study_id][trial._trial_id] = trial
            self._reserved.setdefault(study_id, []).extend(t._trial_id for t in made)

    def unreserve(self) -> list[int]:
        """The reserved trials no ``ask`` took (ids), forgotten here; the caller fails
        them."""
        with self._mutex:
            left = [i for ids in self._reserved.values() for i in ids]
            self._reserved.clear()
        return left

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        self._trials(study_id)
        if template_trial is None and self._reserved.get(study_id):
            with self._mutex:
                return self._reserved[study_id].pop(0)
        if self._writer is not None:  # created and returned in one go
            trial = self._call(self._writer.new_trial, study_id, template_trial)
            trial_id = trial._trial_id
        else:
            trial_id = self._call(self._backend.create_new_trial, study_id, template_trial)
            trial = copy.deepcopy(self._call(self._backend.get_trial, trial_id))
        if template_trial is None or template_trial.state == TrialState.RUNNING:
            with self._mutex:
                self._own[trial_id] = trial
                self._pending[trial_id] = _Pending(trial_id)
                self._seen[study_id][trial_id] = trial
        else:
            self._seen[study_id][trial_id] = trial
        return trial_id

    def set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float,
                        distribution: BaseDistribution) -> None:
        trial = self._own.get(trial_id)
        if trial is None:
            return self._call(self._backend.set_trial_param, trial_id, param_name,
                              param_value_internal, distribution)
        trial.params = {**trial.params,
                        param_name: distribution.to_external_repr(param_value_internal)}
        trial.distributions = {**trial.distributions, param_name: distribution}
        self._pending[trial_id].params.append((param_name, param_value_internal,
                                               distribution))
        self._through(trial_id)

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        for t in self._trials(study_id).values():
            if t.number == trial_number:
                return t._trial_id
        return self._call(self._backend.get_trial_id_from_study_id_trial_number, study_id,
                          trial_number)

    def get_trial_number_from_id(self, trial_id: int) -> int:
        return self.get_trial(trial_id).number

    def get_trial_param(self, trial_id: int, param_name: str) -> float:
        trial = self.get_trial(trial_id)
        return trial.distributions[param_name].to_internal_repr(trial.params[param_name])

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values: Sequence[float] | None = None) -> bool:
        trial = self._own.get(trial_id)
        if trial is None:  # e.g. a queued trial taken, or another worker's stale one failed
            ok = self._call(self._backend.set_trial_state_values, trial_id, state, values)
            if ok and state == TrialState.RUNNING:
                self._hold(trial_id)
            elif ok:
                self._forget_seen(trial_id)
            return ok
        pending = self._pending[trial_id]
        if not state.is_finished() or pending.state is not None:
            if pending.state is not None:  # told already, written at the batch's end
                raise optuna.exceptions.UpdateFinishedTrialError(
                    f"trial {trial.number} is already finished")
            return state == TrialState.RUNNING  # already running here
        pending.state, pending.values = state, values
        if not self._deferred:
            try:
                self._write([pending])
            except optuna.exceptions.UpdateFinishedTrialError:
                self._drop(trial_id)  # finished elsewhere (failed as stale): theirs stands
                raise
            self._finished(trial_id)
        trial.state = state
        trial.values = None if values is None else list(values)
        trial.datetime_complete = datetime.datetime.now()
        return True

    def _finished(self, trial_id: int) -> None:
        with self._mutex:
            self._own.pop(trial_id, None)
            self._pending.pop(trial_id, None)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes to this process's running trials inside (parameters, attributes, reports,
        ends) are collected and written together when it ends (:meth:`flush`); outside,
        each is written when it is made."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
            if not self._deferred:
                self.flush()

    def _forget_seen(self, trial_id: int) -> None:
        """A trial another process wrote: read again at the next refresh or get_trial."""
        for trials in self._seen.values():
            if trial_id in trials:
                trials[trial_id] = self._call(self._backend.get_trial, trial_id)

    def stored_state(self, trial_id: int) -> TrialState:
        """The trial's state in the database (this process's view may be older)."""
        source = self._writer if self._writer is not None else self._backend  # not a cache
        return self._call(source.get_trial, trial_id).state

    def forget(self, trial_id: int) -> None:
        """Stop holding ``trial_id`` (finished elsewhere): read from the database again."""
        self._drop(trial_id)

    def _drop(self, trial_id: int) -> None:
        with self._mutex:
            self._own.pop(trial_id, None)
            self._pending.pop(trial_id, None)
        self._forget_seen(trial_id)

    def set_trial_intermediate_value(self, trial_id: int, step: int,
                                     intermediate_value: float) -> None:
        trial = self._own.get(trial_id)
        if trial is None:
            return self._call(self._backend.set_trial_intermediate_value, trial_id, step,
                              intermediate_value)
        trial.intermediate_values = {**trial.intermediate_values, step: intermediate_value}
        self._pending[trial_id].intermediate[step] = intermediate_value
        self._through(trial_id)

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        trial = self._own.get(trial_id)
        if trial is None:
            return self._call(self._backend.set_trial_user_attr, trial_id, key, value)
        trial.user_attrs = {**trial.user_attrs, key: value}
        self._pending[trial_id].user_attrs[key] = value
        self._through(trial_id)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        trial = self._own.get(trial_id)
        if trial is None:
            self._call(self._backend.set_trial_system_attr, trial_id, key, value)
            self._forget_seen(trial_id)
            return None
        trial.system_attrs = {**trial.system_attrs, key: value}
        self._pending[trial_id].system_attrs[key] = value
        self._through(trial_id)

    def _through(self, trial_id: int) -> None:
        """Outside :meth:`batch` a write to this process's trial goes to the backend now."""
        if not self._deferred:
            self.flush([trial_id])

    def get_trial(self, trial_id: int) -> FrozenTrial:
        trial = self._own.get(trial_id)
        if trial is not None:
            return trial
        for trials in self._seen.values():
            t = trials.get(trial_id)
            if t is not None and t.state.is_finished():
                return t
        return self._call(self._backend.get_trial, trial_id)

    def get_all_trials(self, study_id: int, deepcopy: bool = True,
                       states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        with self._mutex:
            trials = sorted(self._trials(study_id).values(), key=_number)
        if states is not None:
            trials = [t for t in trials if t.state in states]
        return copy.deepcopy(trials) if deepcopy else trials

    # -- writing this process's trials ----------------------------------------------------
    def flush(self, trial_ids: Sequence[int] | None = None) -> None:
        """Write what this process's running ``trials`` (all by default) collected so far,
        in one transaction where the backend allows."""
        with self._mutex:
            ids = list(self._pending) if trial_ids is None else trial_ids
            writes = [self._pending[i] for i in ids if i in self._pending and self._pending[i]]
        if not writes:
            return
        try:
            self._write(writes)
        except optuna.exceptions.UpdateFinishedTrialError:
            for w in writes:  # one of them finished elsewhere: each on its own
                try:
                    self._write([w])
                except optuna.exceptions.UpdateFinishedTrialError:
                    self._drop(w.trial_id)  # theirs stands
        for w in writes:
            if w.state is not None:
                self._finished(w.trial_id)
            elif w.trial_id in self._pending:
                self._pending[w.trial_id] = _Pending(w.trial_id)

    def _write(self, writes: Sequence[_Pending]) -> None:
        if self._writer is not None:
            self._call(self._writer.write_trials, writes)
            return
        b = self._backend
        for w in writes:
            for name, internal, dist in w.params:
                self._call(b.set_trial_param, w.trial_id, name, internal, dist)
            for key, value in w.user_attrs.items():
                self._call(b.set_trial_user_attr, w.trial_id, key, value)
            for key, value in w.system_attrs.items():
                self._call(b.set_trial_system_attr, w.trial_id, key, value)
            for step, value in w.intermediate.items():
                self._call(b.set_trial_intermediate_value, w.trial_id, step, value)
            if w.state is not None:
                self._call(b.set_trial_state_values, w.trial_id, w.state, w.values)
        # written: a retry after a failure later in a batch must not write them twice
        for w in writes:
            w.params, w.user_attrs, w.system_attrs, w.intermediate = [], {}, {}, {}

    def running_here(self) -> list[int]:
        """Trial ids this process is running."""
        with self._mutex:  # told but not yet written: still RUNNING in the database
            return list(self._own)

    # -- heartbeats (server databases) ----------------------------------------------------
    @property
    def heartbeat_interval(self) -> int | None:
        return None if self._heartbeat is None else self._heartbeat.heartbeat_interval

    def record_heartbeats(self, trial_ids: Sequence[int]) -> None:
        """Keep ``trial_ids`` alive (one row each in Optuna's heartbeat table)."""
        if self._heartbeat is None or not trial_ids:
            return
        try:
            self._heartbeat.record_heartbeats(trial_ids)
        except Exception as exc:
            if not is_unreachable(exc):
                raise
            self._lost = True  # the next beat that gets through says the database is back
            return
        if self._lost:
            self._lost = False
            _BACK_AT[0] = time.monotonic()

    def stale_trial_ids(self, study_id: int) -> set[int]:
        """RUNNING trials whose heartbeat this process has seen unchanged for longer than the
        grace period (their worker, on any machine, stopped beating); empty without
        heartbeats.  Judged by this process's clock from its own reads, not by the age of
        the heartbeat, so that a database that was away (when nobody could beat) or another
        machine's clock never makes a live worker's trial stale: a trial is failed between
        one and two grace periods after its worker stopped, as seen by a worker that claims
        meanwhile."""
        if self._heartbeat is None:
            return set()
        grace = self._heartbeat.grace_period or 2 * (self._heartbeat.heartbeat_interval or 0)
        beats = self._call(self._heartbeat.running_heartbeats, study_id)
        now = time.monotonic()
        stale = set()
        for trial_id, beat in beats.items():
            seen = self._beats.get(trial_id)
            # a new heartbeat, or one first seen before this process lost the database
            # (nobody could beat meanwhile): watched from now
            if seen is None or seen[0] != beat or seen[1] < _BACK_AT[0]:
                self._beats[trial_id] = (beat, now)
            elif now - seen[1] > grace:
                stale.add(trial_id)
        self._beats = {k: v for k, v in self._beats.items() if k in beats}
        return stale

    def remove_session(self) -> None:
        self._backend.remove_session()

    def close(self) -> None:
        """Let the database connections go (a storage opened only to check it)."""
        engine = getattr(self._writer, "engine", None)
        if engine is not None:
            engine.dispose()


def _number(trial: FrozenTrial) -> int:
    return trial.number
