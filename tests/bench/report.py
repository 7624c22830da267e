"""Figures of a run: percentiles, one row per measured figure with its bare baseline and target,
printed as a table and written as JSON to ``bench-results/``."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from tests.support.live_server import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "bench-results"
VERSIONS = ("django", "channels", "channels-redis", "celery", "uvicorn", "gunicorn", "psycopg")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass
class Row:
    """One figure: the project path against its bare baseline, and the target it must meet."""

    benchmark: str
    figure: str
    unit: str
    project: float
    bare: float | None
    target: str
    met: bool | None
    details: dict = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.bare in (None, 0) or self.bare != self.bare:
            return None
        return self.project / self.bare


@dataclass
class Report:
    mode: str
    scale: dict
    rows: list[Row] = field(default_factory=list)
    setup: dict = field(default_factory=dict)
    started: float = field(default_factory=time.time)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        print(f"\n[bench] {_line(row)}", flush=True)
        return row

    def table(self) -> str:
        header = "| benchmark | figure | project | bare | ratio | target | met |"
        lines = [header, "|---|---|---|---|---|---|---|"]
        lines += [
            f"| {r.benchmark} | {r.figure} | {_num(r.project)} {r.unit} | "
            f"{_num(r.bare) + ' ' + r.unit if r.bare is not None else '-'} | "
            f"{_num(r.ratio) if r.ratio is not None else '-'} | {r.target} | "
            f"{'-' if r.met is None else ('yes' if r.met else 'NO')} |"
            for r in self.rows
        ]
        return "\n".join(lines)

    def write(self) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self.started))
        path = RESULTS_DIR / f"bench-{self.mode}-{stamp}.json"
        data = {
            "mode": self.mode,
            "started": stamp,
            "duration_s": round(time.time() - self.started, 1),
            "commit": _commit(),
            "versions": _versions(),
            "machine": {
                "cpu_count": os.cpu_count(),
                "platform": platform.platform(),
                "load_average_at_end": os.getloadavg(),
            },
            "scale": self.scale,
            "setup": self.setup,
            "rows": [{**asdict(r), "ratio": r.ratio} for r in self.rows],
        }
        path.write_text(json.dumps(data, indent=2, default=_json_default))
        return path


def _json_default(value: object) -> object:
    if isinstance(value, float) and value != value:
        return None
    return str(value)


def _num(value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    if float(value).is_integer() and abs(value) < 1000:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _line(row: Row) -> str:
    bare = f" (bare {_num(row.bare)} {row.unit}, ratio {_num(row.ratio)})" if row.bare else ""
    met = "" if row.met is None else (" met" if row.met else " MISSED")
    figure = f"{row.benchmark} / {row.figure}: {_num(row.project)} {row.unit}"
    return f"{figure}{bare}; target {row.target}{met}"


def _commit() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{head}{'+dirty' if dirty else ''}"


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found
