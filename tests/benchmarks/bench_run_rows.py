"""Benchmark: peak memory of ``job-console run TEMPLATE --data ROWS`` and of a plain
``job-console run BATCH.jsonl`` at 1,000 and 100,000 rows (lines).

Run by hand: ``python tests/benchmarks/bench_run_rows.py [--rows 1000 100000] [--dry-rows N]
[--only data|batch|dry]``.

A sandbox runs in its own process (``python -m gui sandbox``, jobs of no duration, many workers),
so its own memory (it keeps every job for RunPod's retention) is not counted; each run is a
subprocess of its own with a fresh data folder, and prints its peak RSS. The engine's rate
limiter is raised out of the way in that subprocess (RunPod's /run limit alone would make
100,000 rows take 1,000 s): memory is what is measured, not pacing.

Also a ``--dry-run`` (the preview: every row read, expanded and checked) over a file of
``--dry-rows`` rows (default 1,000,000) against one of 1,000.

Prints the peak RSS of each and the ratios; bounded memory means a ratio near 1 (goal: within
1.3x): the engine lets each ended job go once its line is printed, and a batch is read one line
at a time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = {"input": {"i": "{{i}}", "prompt": "row {{i}} of the run", "sandbox": {"duration": 0}}}

CHILD = """
import json, resource, sys
from gui.core import limits
for name in list(limits.RATE_LIMITS):
    limits.RATE_LIMITS[name] = (10**9, None)
from gui.cli import main
code = main(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"code": code, "rss_mb": peak / 1024}), file=sys.stderr)
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _batch(folder: Path, count: int) -> Path:
    """A batch of literal bodies, one per line: the template's body filled in as a row would."""
    path = folder / f"batch-{count}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            body = {"input": {"i": i, "prompt": f"row {i} of the run", "sandbox": {"duration": 0}}}
            handle.write(json.dumps(body) + "\n")
    return path


def _rows(folder: Path, count: int) -> Path:
    path = folder / f"rows-{count}.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            handle.write(json.dumps({"i": i, "name": f"r{i}"}) + "\n")
    return path


def _measure(folder: Path, args: list[str]) -> tuple[float, float, int]:
    """``(peak RSS MB, seconds, exit code)`` of one ``job-console`` run in a fresh data folder."""
    home = Path(tempfile.mkdtemp(dir=folder))
    env = dict(os.environ, JOB_CONSOLE_HOME=str(home))
    env.pop("RUNPOD_API_KEY", None)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    last = done.stderr.strip().splitlines()[-1]
    result = json.loads(last)
    return float(result["rss_mb"]), elapsed, int(result["code"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--dry-rows", type=int, default=1_000_000)
    parser.add_argument("--only", choices=("data", "batch", "dry"), action="append")
    options = parser.parse_args()
    wanted = set(options.only or ("data", "batch", "dry"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "t.json"
        template.write_text(json.dumps(TEMPLATE), encoding="utf-8")

        if "dry" in wanted:
            _dry_runs(folder, template, options.dry_rows)
        if wanted & {"data", "batch"}:
            _sending_runs(folder, template, options.rows, wanted)


def _dry_runs(folder: Path, template: Path, dry_rows: int) -> None:
    small, big = _rows(folder, 1000), _rows(folder, dry_rows)
    figures = {}
    for label, rows in (("1,000", small), (f"{dry_rows:,}", big)):
        rss, seconds, code = _measure(folder, ["run", str(template), "--data", str(rows),
                                               "--dry-run", "--preview", "0"])  # fmt: skip
        figures[label] = rss
        print(f"dry run   {label:>10} rows: peak {rss:7.1f} MB, {seconds:6.1f} s (exit {code})")
    first, last = figures.values()
    print(f"dry run: peak RSS ratio {last / first:.2f} ({dry_rows:,} vs 1,000 rows)")


def _sending_runs(folder: Path, template: Path, counts: list[int], wanted: set[str]) -> None:
    """Data runs and plain batches of each size against one sandbox in its own process."""
    port = _free_port()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "gui", "sandbox", "--port", str(port), "--workers", "64",
         "--duration", "0", "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        target = ["--endpoint", "ep", "--base-url", f"http://127.0.0.1:{port}/v2"]
        kinds = {
            "data": lambda n: ["run", str(template), "--data", str(_rows(folder, n)), *target],
            "batch": lambda n: ["run", str(_batch(folder, n)), *target],
        }
        for kind, command in kinds.items():
            if kind not in wanted:
                continue
            runs = {}
            for count in counts:
                rss, seconds, code = _measure(folder, command(count))
                runs[count] = rss
                print(f"{kind} run {count:>10,} rows: peak {rss:7.1f} MB, {seconds:6.1f} s, "
                      f"{count / seconds:,.0f} rows/s (exit {code})")  # fmt: skip
            low, high = min(runs), max(runs)
            print(f"{kind} run: peak RSS ratio {runs[high] / runs[low]:.2f} "
                  f"({high:,} vs {low:,} rows)")  # fmt: skip
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
