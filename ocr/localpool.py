"""``transcribe --jobs N``: a process pool that survives the death of a child.

Why not ``multiprocessing.Pool.imap``: when a child dies (the OOM killer, a crash in a
decoder) imap waits forever for the result that child will never send. A
``ProcessPoolExecutor`` reports the death (``BrokenProcessPool``) to every pending future
instead. Then every file that was in flight is run again ALONE in a fresh one-process pool,
so an innocent file that merely shared the pool is simply redone, and a file that kills its
process a second time gets a ``worker-crashed`` error record; the rest of the batch goes on
in a fresh pool. Children write their own outputs, so results never depend on ``--jobs``.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from ocr.batch import BatchOptions, FileOutcome, InputFile, crashed_outcome, process_file
from ocr.model.store import DEFAULT_MODEL_DIR, Recognizer, load_model

IN_FLIGHT_PER_JOB: int = 2
"""Files handed to the pool per process at a time: keeps every process busy while few files
are in flight when a child dies (each of those is re-run alone)."""

Task = Callable[[InputFile], FileOutcome]

_state: dict[str, object] = {}


def _init_child(opts: BatchOptions) -> None:
    _state["recognizer"] = load_model(opts.model_dir or DEFAULT_MODEL_DIR)
    _state["opts"] = opts


def run_in_child(item: InputFile) -> FileOutcome:
    """The default per-file work of a pool process (its model was loaded at start)."""
    rec, opts = _state["recognizer"], _state["opts"]
    assert isinstance(rec, Recognizer) and isinstance(opts, BatchOptions)
    return process_file(item, rec, opts)


def _pool(opts: BatchOptions, jobs: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        jobs, mp_context=mp.get_context("spawn"), initializer=_init_child, initargs=(opts,)
    )


def _alone(item: InputFile, opts: BatchOptions, task: Task) -> FileOutcome:
    """Run one file in a pool of its own: its result, or a worker-crashed record."""
    with _pool(opts, 1) as pool:
        try:
            return pool.submit(task, item).result()
        except BrokenProcessPool as e:
            return crashed_outcome(item, opts, f"twice; {e}")


def run_pool(
    items: Sequence[InputFile], opts: BatchOptions, jobs: int, task: Task | None = None
) -> Iterator[FileOutcome]:
    """Outcomes in input order, every file exactly one (result or error record)."""
    task = task or run_in_child
    done: dict[int, FileOutcome] = {}
    next_to_yield = 0
    pending = list(range(len(items)))[::-1]  # a stack: pop() gives the next index
    while pending or next_to_yield < len(items):
        in_flight: dict[Future[FileOutcome], int] = {}
        suspects: list[int] = []
        with _pool(opts, jobs) as pool:
            while pending or in_flight:
                while pending and len(in_flight) < jobs * IN_FLIGHT_PER_JOB:
                    i = pending.pop()
                    in_flight[pool.submit(task, items[i])] = i
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for fut in finished:
                    i = in_flight.pop(fut)
                    try:
                        done[i] = fut.result()
                    except BrokenProcessPool:
                        suspects.append(i)
                        broken = True
                if broken:
                    suspects += in_flight.values()
                    break
                while next_to_yield in done:
                    yield done.pop(next_to_yield)
                    next_to_yield += 1
        for i in sorted(suspects):
            done[i] = _alone(items[i], opts, task)
        while next_to_yield in done:
            yield done.pop(next_to_yield)
            next_to_yield += 1
