"""Pre-flight system resources of an environment of the example (this machine).

    python scripts/check_resources.py --data-dir data/production [--redis URL] [thresholds]

Checks, and prints one line per check (``ok`` or ``FAIL``), exit 1 when any fails:

* application server: the CPU the app's own processes use < ``--cpu-max`` % (sampled over a
  second, from /proc),
  memory used < ``--mem-max`` %;
* database: the SQLite file's disk has > ``--disk-free-min`` % free, the file (when it
  exists: a first deployment has none yet) passes ``PRAGMA quick_check``; SQLite runs
  inside the app process, so the app server's CPU and memory are the database's too;
* Redis: answers PING and uses < ``--redis-mem-max`` % of its ``maxmemory`` (of the
  machine's memory when no maxmemory is set);
* provisioned storage: the data directory, ``uploads/`` (the example's stand-in for S3)
  and ``outbox/`` exist or can be created, and are writable.

Standard library only; Linux (/proc).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import sys
import time
from pathlib import Path
from urllib.parse import urlparse


def memory_used_percent() -> tuple[float, int]:
    """(percent of memory in use, total bytes), from MemTotal and MemAvailable."""
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        info[key] = int(rest.split()[0]) * 1024
    total = info["MemTotal"]
    return 100.0 * (total - info["MemAvailable"]) / total, total


def redis_memory(url: str, timeout: float = 3.0) -> tuple[int, int]:
    """(used_memory, maxmemory) of the Redis at ``url``, after a PING."""
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout) as s:
        s.sendall(b"PING\r\nINFO memory\r\n")
        data = b""
        while b"maxmemory:" not in data or not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode("utf-8", "replace")
    if not text.startswith("+PONG"):
        raise OSError(f"no PONG (got {text[:40]!r})")
    values = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(values["used_memory"]), int(values.get("maxmemory", "0"))


def app_processes(data_dir: Path) -> list[Path]:
    """/proc entries of the processes serving the environment whose data is ``data_dir``
    (their ``CAMARKETPLACE_DATA_DIR``, resolved against their working directory)."""
    wanted = data_dir.resolve()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for entry in (proc / "environ").read_bytes().split(b"\0"):
                if entry.startswith(b"CAMARKETPLACE_DATA_DIR="):
                    value = entry.split(b"=", 1)[1].decode()
                    if (Path(os.readlink(proc / "cwd")) / value).resolve() == wanted:
                        found.append(proc)
                    break
        except OSError:
            continue
    return found


class Report:
    def __init__(self) -> None:
        self.failed = 0

    def line(self, ok: bool, what: str) -> None:
        self.failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {what}", flush=True)


def app_cpu_percent(data_dir: Path, sample_s: float = 1.0) -> tuple[float, int]:
    """(CPU the app's processes used over ``sample_s``, as % of all CPUs; how many processes)."""
    procs = app_processes(data_dir)

    def ticks() -> dict[str, int]:
        found = {}
        for proc in procs:
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                found[proc.name] = int(fields[11]) + int(fields[12])
            except OSError:
                continue
        return found

    before = ticks()
    time.sleep(sample_s)
    after = ticks()
    used = sum(after[p] - before.get(p, after[p]) for p in after)
    hz = os.sysconf("SC_CLK_TCK")
    return 100.0 * used / hz / sample_s / (os.cpu_count() or 1), len(after)




def check(args: argparse.Namespace) -> int:
    report = Report()
    # The app server is the app's own processes here: the whole machine also runs this
    # deployment's gates (tests, scans), which would make a machine-wide figure meaningless.
    cpu, processes = app_cpu_percent(Path(args.data_dir))
    report.line(
        cpu < args.cpu_max,
        f"app server CPU {cpu:.0f}% over {processes} process(es) (< {args.cpu_max:g}%)",
    )
    mem, total = memory_used_percent()
    report.line(mem < args.mem_max, f"app server memory {mem:.0f}% of {total >> 20} MiB (< {args.mem_max:g}%)")

    data = Path(args.data_dir)
    for sub in (data, data / "uploads", data / "outbox"):
        try:
            sub.mkdir(parents=True, exist_ok=True)
            probe = sub / ".releasegate-write-probe"
            probe.write_bytes(b"ok")
            probe.unlink()
            report.line(True, f"{sub} exists and is writable")
        except OSError as exc:
            report.line(False, f"{sub}: {exc.strerror or exc}")
    usage = shutil.disk_usage(data)
    free = 100.0 * usage.free / usage.total
    report.line(free > args.disk_free_min, f"database disk {free:.0f}% free (> {args.disk_free_min:g}%)")
    db = data / "camarketplace.db"
    if db.exists():
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
        size = db.stat().st_size
        report.line(result == "ok", f"database {db.name} ({size >> 10} KiB) quick_check: {result}")
    else:
        print(f"note {db} does not exist yet (first deployment): nothing to check", flush=True)

    if args.redis:
        try:
            used, maximum = redis_memory(args.redis)
        except (OSError, KeyError, ValueError) as exc:
            report.line(False, f"redis at {urlparse(args.redis).netloc}: {exc}")
        else:
            limit = maximum or total
            share = 100.0 * used / limit
            basis = "maxmemory" if maximum else "machine memory (no maxmemory set)"
            report.line(share < args.redis_mem_max,
                        f"redis memory {used >> 20} MiB = {share:.1f}% of {basis} (< {args.redis_mem_max:g}%)")
    return 1 if report.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", required=True, help="The environment's CAMARKETPLACE_DATA_DIR.")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL"), help="Redis URL to check.")
    parser.add_argument("--cpu-max", type=float, default=60)
    parser.add_argument("--mem-max", type=float, default=70)
    parser.add_argument("--disk-free-min", type=float, default=20)
    parser.add_argument("--redis-mem-max", type=float, default=70)
    return check(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
