"""Searching and paging histories of 10,000, 100,000 and 1,000,000 jobs (run by hand).

    python tests/benchmarks/bench_history.py [--sizes 10000,100000,1000000] [--rounds 5]

Each history is built in a temporary folder: schema 3 by ``JobStore``, then every row in one
transaction through the store's own upsert, so the triggers index every job as any writer's would
(reported as jobs/s). Rows look like a batch user's: prompts of 8-20 words from a 5,000-word
vocabulary with a seed and a size, outputs with a caption and an image URL, 4% failed with a
RunPod error and a traceback, 2% cancelled, a few still running; 40 workers, 3 profiles, 5
templates. One job (in the middle) has a word in its prompt that no other job has.

Then, through ``HistoryReader`` (medians of ``--rounds``, the file in the OS cache as it is after
the window has run a while): the count, the first page of 100 (newest first), the text search for
the rare word (count, then its page), a common word's first page and count, a prefix as typed, the
first page in other sorts (worker, run time, status), a page from the far end, the state counts
(whole history, and within a text search), and where one job sits in a sort.

Printed: milliseconds per N, and the ratio of the largest N to the smallest, measured in the same
run (no timed assertion: the machine is shared). Goals (issue 16): among 1,000,000 a text search
for a word inside one job's input under 300 ms to its page, a sort by a column under 300 ms to its
first page, and time flat in N. Also printed: the file's size and the time to build the search
index per 100,000 jobs (its rows re-indexed from scratch, as the migration from schema 2 does).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gui.core.records import JobRecord, JobState
from gui.core.storage.history import HistoryReader, SortKey, parse_search
from gui.core.storage.job_index import TEXT_COLUMNS
from gui.core.storage.sqlite_file import open_database
from gui.core.storage.store import _UPSERT, DB_FILENAME, JobStore, _row
from gui.core.targets import Target

RARE = "zanzibarquux"
PROFILES = ("prod", "staging", "eu-west")
TEMPLATES = (None, None, "Portrait", "Landscape", "Upscale", "Caption", "Night scene")
TARGETS = {
    p: Target(name=p, kind="cloud", base_url="https://api.runpod.ai/v2", endpoint_id=f"ep-{p}")
    for p in PROFILES
}


def _vocabulary(rng: random.Random) -> list[str]:
    syllables = ["ka", "lo", "mi", "ra", "ten", "sol", "var", "bri", "un", "pe", "gro", "zu",
                 "dan", "fel", "or", "qui", "sta", "ne", "mor", "lit"]  # fmt: skip
    common = ["a", "cat", "on", "red", "sofa", "portrait", "of", "an", "old", "man", "in", "the",
              "rain", "cinematic", "lighting", "highly", "detailed", "watercolour", "sunset",
              "over", "sea"]  # fmt: skip
    words = {"".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(6000)}
    return common * 40 + sorted(words)[:5000]


def _records(count: int, seed: int = 1) -> Iterator[tuple[JobRecord, Target]]:
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng)
    start = 1_700_000_000.0
    for i in range(count):
        submitted = start + i * 0.5 + rng.random() * 0.4
        words = rng.choices(vocabulary, k=rng.randint(8, 20))
        if i == count // 2:
            words.insert(4, RARE)
        roll = rng.random()
        state = (JobState.FAILED if roll < 0.04 else JobState.CANCELLED if roll < 0.06
                 else JobState.IN_PROGRESS if i > count - 20 else JobState.COMPLETED)  # fmt: skip
        profile = PROFILES[i % 3]
        record = JobRecord(
            local_id=uuid.UUID(int=rng.getrandbits(128)).hex, profile=profile,
            endpoint_id=TARGETS[profile].endpoint_id, operation="run",
            request={"input": {"prompt": " ".join(words), "seed": rng.randrange(10**9),
                               "width": 1024, "height": rng.choice((768, 1024))},
                     "webhook": "https://hooks.example.test/runpod"},
            submitted_at=submitted, state=state,
            job_id=f"{uuid.UUID(int=rng.getrandbits(128))}-u1",
            template=rng.choice(TEMPLATES), started_at=submitted + rng.random() * 3,
            delay_time_ms=rng.randrange(50, 5000), worker_id=f"w{rng.randrange(40):02d}xk3",
            history=[(submitted, "SUBMITTING")],
        )  # fmt: skip
        if state.terminal:
            record.finished_at = submitted + 3 + rng.random() * 20
            record.execution_time_ms = rng.randrange(500, 20000)
        if state is JobState.COMPLETED:
            record.output = {
                "caption": " ".join(rng.choices(vocabulary, k=8)),
                "image_url": f"https://bucket.example.test/out/{record.local_id}.png",
            }
        elif state is JobState.FAILED:
            record.error = json.dumps({
                "error_type": "<class 'torch.cuda.OutOfMemoryError'>",
                "error_message": f"CUDA out of memory. Tried to allocate {rng.randrange(20)} GiB",
                "error_traceback": "Traceback (most recent call last):\n  File \"handler.py\", "
                                   "line 42, in handler\n    image = pipe(prompt).images[0]\n",
            })  # fmt: skip
        yield record, TARGETS[profile]


def build(path: Path, count: int) -> float:
    """A history of ``count`` jobs at ``path``; the seconds the rows took to write."""
    JobStore(path).close()  # schema 3
    conn = open_database(path)
    # A bulk writer's cache: 11 indexes of a million rows don't fit SQLite's default 2 MB, and each
    # row's insert would then read pages back from the OS.
    conn.execute("PRAGMA cache_size=-262144")  # 256 MB
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(_UPSERT, ((*_row(r, t), None, 1) for r, t in _records(count)))
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return elapsed


def reindex_seconds(path: Path) -> float:
    """The time to build the search index of the whole file from scratch."""
    conn = open_database(path)
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO job_search (job_search) VALUES ('delete-all')")
    columns = ", ".join(TEXT_COLUMNS)
    conn.execute(f"INSERT INTO job_search (rowid, {columns}) "
                 f"SELECT row_no, {columns} FROM job_search_text")  # fmt: skip
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return elapsed


def _median_ms(action: Callable[[], Any], rounds: int) -> float:
    action()  # once to warm the page cache and the statement cache
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(path: Path, rounds: int) -> dict[str, float]:
    reader = HistoryReader(path)
    everything = parse_search("")
    rare = parse_search(RARE)
    common = parse_search("portrait")
    typed = parse_search("zanzib")
    failed_cuda = parse_search("status:failed cuda")
    total = reader.count()
    middle = reader.page(rare, limit=1)[0].local_id

    def search_rare() -> None:
        reader.page(rare, SortKey.SUBMITTED, True, 0, 100, total=reader.count(rare))

    def search_common() -> None:
        reader.page(common, SortKey.SUBMITTED, True, 0, 100, total=reader.count(common))

    cases: dict[str, Callable[[], Any]] = {
        "count": reader.count,
        "first page (newest first)": lambda: reader.page(everything, total=total),
        "search rare word: count+page": search_rare,
        "search as typed (prefix)": lambda: reader.page(typed, total=reader.count(typed)),
        "search common word: page": lambda: reader.page(common),
        "search common word: count+page": search_common,
        "status:failed cuda: page": lambda: reader.page(failed_cuda),
        "sort by worker: page": lambda: reader.page(everything, SortKey.WORKER, False),
        "sort by run time: page": lambda: reader.page(everything, SortKey.RUN_TIME, True),
        "sort by status: page": lambda: reader.page(everything, SortKey.STATUS, False),
        "last page (far end)": lambda: reader.page(everything, offset=total - 100, total=total),
        "state counts": reader.state_counts,
        "state counts in a search": lambda: reader.state_counts(common),
        "position of a job (by worker)": lambda: reader.position_of(
            middle, everything, SortKey.WORKER, False),
    }  # fmt: skip
    try:
        return {name: _median_ms(action, rounds) for name, action in cases.items()}
    finally:
        reader.close()


def _size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, float]] = {}
    for count in sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / DB_FILENAME
            written = build(path, count)
            size = _size_mb(path)
            reindex = reindex_seconds(path)
            results[count] = measure(path, args.rounds)
            per_100k = 100_000 / count
            print(
                f"{count:>9,} jobs: written at {count / written:,.0f} jobs/s with every index "
                f"and trigger; file {size:,.0f} MB ({size * per_100k:,.0f} MB per 100k); search "
                f"index built from scratch in {reindex:.1f} s ({reindex * per_100k:.1f} s per "
                "100k)",
                flush=True,
            )
    print()
    smallest, largest = min(results), max(results)
    header = "".join(f"{n:>11,}" for n in sizes)
    print(f"{'ms (median)':<32}{header}   ratio {largest:,}/{smallest:,}")
    for name in results[smallest]:
        row = "".join(f"{results[n][name]:>11.2f}" for n in sizes)
        ratio = results[largest][name] / max(results[smallest][name], 1e-6)
        print(f"{name:<32}{row}   {ratio:>6.1f}x")


if __name__ == "__main__":
    main()
