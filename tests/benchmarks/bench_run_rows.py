"""Benchmark: peak memory of ``job-console run TEMPLATE --data ROWS`` at 1,000 and 100,000 rows.

Run by hand: ``python tests/benchmarks/bench_run_rows.py [--rows 1000 100000] [--dry-rows N]``.

A sandbox runs in its own process (``python -m gui sandbox``, jobs of no duration, many workers),
so its own memory (it keeps every job for RunPod's retention) is not counted; each run is a
subprocess of its own with a fresh data folder, and prints its peak RSS. The engine's rate
limiter is raised out of the way in that subprocess (RunPod's /run limit alone would make
100,000 rows take 1,000 s): memory is what is measured, not pacing.

Also a ``--dry-run`` (the preview: every row read, expanded and checked) over a file of
``--dry-rows`` rows (default 1,000,000) against one of 1,000.

Prints the peak RSS of each and the ratios; bounded memory means a ratio near 1 for the data
run's own part (what the engine keeps of ended jobs grows with the rows until it keeps only
unfinished ones).
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
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        template = folder / "t.json"
        template.write_text(json.dumps(TEMPLATE), encoding="utf-8")

        small, big = _rows(folder, 1000), _rows(folder, options.dry_rows)
        figures = {}
        for label, rows in (("1,000", small), (f"{options.dry_rows:,}", big)):
            rss, seconds, code = _measure(folder, ["run", str(template), "--data", str(rows),
                                                   "--dry-run", "--preview", "0"])  # fmt: skip
            figures[label] = rss
            print(f"dry run   {label:>10} rows: peak {rss:7.1f} MB, {seconds:6.1f} s (exit {code})")
        first, last = figures.values()
        print(f"dry run: peak RSS ratio {last / first:.2f} ({options.dry_rows:,} vs 1,000 rows)")

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
            runs = {}
            for count in options.rows:
                rows = _rows(folder, count)
                target = ["--endpoint", "ep", "--base-url", f"http://127.0.0.1:{port}/v2"]
                rss, seconds, code = _measure(
                    folder, ["run", str(template), "--data", str(rows), *target]
                )
                runs[count] = rss
                print(f"data run  {count:>10,} rows: peak {rss:7.1f} MB, {seconds:6.1f} s, "
                      f"{count / seconds:,.0f} rows/s (exit {code})")  # fmt: skip
            counts = sorted(runs)
            print(f"data run: peak RSS ratio {runs[counts[-1]] / runs[counts[0]]:.2f} "
                  f"({counts[-1]:,} vs {counts[0]:,} rows)")  # fmt: skip
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
