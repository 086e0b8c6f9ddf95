"""Writing only where the user said, whole or not at all, and nothing left over.

- :func:`check_output_dir` / :func:`check_output_file` refuse, before anything runs, an output
  path that is a symlink, a device, a folder where a file belongs (or the reverse), or in a
  folder this process cannot write; each refusal is one :class:`ConfigError` line.
- :func:`write_atomic` writes a file through a temporary one beside it and ``os.replace``;
  temporary names carry the writer's process id (``.NAME.PID.RANDOM.tmp``) so that
  :func:`remove_stale_temps` can delete those of a writer that died (kill -9) without touching
  a live writer's.

Every layer may import this module (like ``lstmtune.errors``): it uses the standard library
only.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from lstmtune.errors import ConfigError

__all__ = ["check_output_dir", "check_output_file", "write_atomic", "temp_dir", "old_name",
           "make_dir",
           "remove_stale_temps", "pid_alive"]

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.(tmp|old)$")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _kind(st: os.stat_result) -> str:
    mode = st.st_mode
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "a special file"


def _writable_parent(path: Path, what: str, flag: str) -> None:
    parent = path.parent
    while not parent.exists():  # the nearest existing ancestor must be a writable folder
        parent = parent.parent
    if not parent.is_dir():
        raise ConfigError(f"{flag} '{path}': '{parent}' is a file, not a folder, so {what} "
                          "cannot be created there; choose another path.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} '{path}': this user cannot write in '{parent}' (permission "
                          f"denied), so {what} cannot be created there; choose a folder you "
                          "can write to.")


def check_output_dir(path: str | os.PathLike, flag: str = "--out") -> Path:
    """``path`` is, or can become, a real folder this process can write in; returns it.
    Refused: a symlink, a regular file, a device or pipe, a folder without write permission."""
    p = Path(path)
    if str(path).strip() == "":
        raise ConfigError(f"{flag} is empty: give a folder, e.g. {flag} lstmtune-out/run1.")
    if p.is_symlink():
        raise ConfigError(f"{flag} '{p}' is a symbolic link (to '{os.readlink(p)}'); outputs "
                          "are written only into real folders: give the target folder itself.")
    if p.exists():
        st = p.stat()
        if stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{flag} '{p}' is a file, but a folder is needed for the outputs: "
                              "choose a folder path (it is created if missing).")
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{flag} '{p}' is {_kind(st)}, not a folder: choose a folder "
                              "path (it is created if missing).")
        if not os.access(p, os.W_OK | os.X_OK):
            raise ConfigError(f"{flag} '{p}': this user cannot write in that folder "
                              "(permission denied); choose a folder you can write to.")
        return p
    _writable_parent(p, "the folder", flag)
    return p


def check_output_file(path: str | os.PathLike, flag: str = "--out") -> Path:
    """``path`` is, or can become, a regular file this process can replace; returns it.
    Refused: a symlink (the link would be replaced, not its target), a folder, a device or
    pipe (e.g. /dev/null), a file in a folder without write permission."""
    p = Path(path)
    if str(path).strip() == "":
        raise ConfigError(f"{flag} is empty: give a file path, e.g. {flag} report.html.")
    if p.is_symlink():
        raise ConfigError(f"{flag} '{p}' is a symbolic link (to '{os.readlink(p)}'); it would "
                          "be replaced by a file, not written through: give a regular file "
                          "path.")
    if p.exists():
        st = p.stat()
        if stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{flag} '{p}' is a folder, but a file is needed: give a file "
                              f"path, e.g. {p / 'report.html'}.")
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{flag} '{p}' is {_kind(st)}, not a regular file; it is never "
                              "replaced: give a regular file path.")
    _writable_parent(p, "the file", flag)
    if p.parent.exists() and not os.access(p.parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{flag} '{p}': this user cannot write in '{p.parent}' (permission "
                          "denied); choose a folder you can write to.")
    return p


def make_dir(path: Path, flag: str = "--out") -> Path:
    """Create the output folder ``path`` (checked before with :func:`check_output_dir`); a
    file system that refuses (e.g. /proc, a read-only mount even for root) is one line."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{flag} '{path}': the folder cannot be created ({exc.strerror}); "
                          "choose a folder you can write to.") from None
    return path


def _temp_prefix(path: Path) -> str:
    return f".{path.name}.{os.getpid()}."


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and
    ``os.replace``: readers never see half a file, a failure leaves the old file (or none),
    and the new file gets the umask's permissions like any other."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb" if isinstance(data, bytes) else "w",
                       **({} if isinstance(data, bytes) else {"encoding": "utf-8"})) as f:
            f.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def temp_dir(path: Path) -> Path:
    """A new private temporary folder beside ``path`` (renamed onto it when complete), with
    the umask's permissions rather than mkdtemp's 0700."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    return tmp


def old_name(path: Path) -> Path:
    """Where the previous version of ``path`` waits while the new one is renamed in."""
    return path.with_name(f"{_temp_prefix(path)}{os.urandom(4).hex()}.old")


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Delete the temporary files and folders in ``folder`` left by writers that are no longer
    running (e.g. killed during a save); returns what was removed.  A live writer's are
    kept."""
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        m = _TEMP.match(entry.name)
        if m is None or int(m["pid"]) == os.getpid() or pid_alive(int(m["pid"])):
            continue  # not a temporary, or one in use
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed
