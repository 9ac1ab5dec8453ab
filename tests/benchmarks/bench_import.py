"""``job-console history import`` of large histories: jobs per second and peak memory (by hand).

    python tests/benchmarks/bench_import.py [--sizes 100000 1000000]

For each size: writes a JSONL export of that many realistic jobs (a prompt and a seed in the
request, an output of ~300 bytes, a three-step history, one job in ten with stream chunks, one in
a hundred unfinished), then runs ``job-console history import`` in a fresh process on an empty
data folder, and again on the same file (which adds nothing). Prints the time, jobs/s, the file's
size and the import process's peak resident memory (VmHWM, ru_maxrss): the file is streamed and
staged in SQLite, so memory must not grow with the size.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

# Runs the import in its own process and reports its peak memory (ru_maxrss, KiB on Linux).
IMPORT = """
import resource, sys
from gui.cli import main
code = main(["history", "import", sys.argv[1], "--json"])
print("peak-kib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""

WORDS = ("a", "cat", "in", "hat", "on", "mat", "with", "bat", "near", "the", "sea", "at", "dusk")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, tz=UTC).isoformat(timespec="milliseconds")


def write_jobs(path: Path, count: int) -> None:
    rng = random.Random(7)
    start = 1_735_000_000.0
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            submitted = start + i * 0.5
            unfinished = i % 100 == 99
            state = "IN_PROGRESS" if unfinished else ("FAILED" if i % 37 == 0 else "COMPLETED")
            prompt = " ".join(rng.choice(WORDS) for _ in range(12))
            job = {
                "format": 1,
                "local_id": f"{rng.getrandbits(128):032x}",
                "job_id": f"{rng.getrandbits(64):016x}-{rng.getrandbits(32):08x}-u1",
                "profile": "prod",
                "endpoint_id": "abcd1234efgh",
                "operation": "run",
                "state": state,
                "template": "txt2img" if i % 3 == 0 else None,
                "submitted_at": _iso(submitted),
                "started_at": _iso(submitted + 1.2),
                "finished_at": None if unfinished else _iso(submitted + 4.7),
                "delay_time_ms": 1200,
                "execution_time_ms": None if unfinished else 3500,
                "worker_id": f"w{i % 40:03d}",
                "request": {
                    "input": {
                        "prompt": prompt,
                        "seed": rng.randrange(2**31),
                        "steps": 30,
                        "width": 1024,
                        "height": 1024,
                    }
                },
                "output": None
                if unfinished or state == "FAILED"
                else {
                    "images": [f"https://bucket.example.com/out/{i:09d}.png"],
                    "seed": rng.randrange(2**31),
                    "timings": {"load": 0.4, "infer": 3.1},
                    "caption": prompt,
                },
                "error": '{"error_message": "CUDA out of memory"}' if state == "FAILED" else None,
                "progress": None,
                "stream": [{"step": s} for s in range(3)] if i % 10 == 0 else [],
                "history": [
                    {"at": _iso(submitted), "state": "IN_QUEUE"},
                    {"at": _iso(submitted + 1.2), "state": "IN_PROGRESS"},
                ]
                + ([] if unfinished else [{"at": _iso(submitted + 4.7), "state": state}]),
                "webhook_deliveries": 1 if i % 2 else 0,
                "note": None,
            }
            out.write(json.dumps(job) + "\n")


def run_import(path: Path, data_dir: Path) -> tuple[float, dict[str, object], int]:
    env = {**os.environ, "JOB_CONSOLE_HOME": str(data_dir)}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", IMPORT, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - began
    peak = int(done.stderr.split("peak-kib")[1].split()[0])
    return elapsed, json.loads(done.stdout), peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        for size in args.sizes:
            source = Path(tmp) / f"jobs-{size}.jsonl"
            write_jobs(source, size)
            data_dir = Path(tmp) / f"home-{size}"
            elapsed, report, peak = run_import(source, data_dir)
            assert report["added"] == size, report
            again, second, peak_again = run_import(source, data_dir)
            assert second["added"] == 0, second
            mb = source.stat().st_size / 1e6
            db = (data_dir / "jobs.sqlite3").stat().st_size / 1e6
            print(
                f"{size:>9,} jobs ({mb:,.0f} MB JSONL -> {db:,.0f} MB history): import "
                f"{elapsed:6.1f} s = {size / elapsed:8,.0f} jobs/s, peak {peak / 1024:5.0f} MB; "
                f"again (adds nothing) {again:6.1f} s = {size / again:8,.0f} jobs/s, "
                f"peak {peak_again / 1024:5.0f} MB"
            )
            source.unlink()


if __name__ == "__main__":
    main()
