"""How long the linearizability check takes against history length.

    python -m stress.linearizability_bench [--sizes 500 1000 ...] [--threads 8] [--repeat 3]

For each size, records ``--repeat`` histories from real threads sharing one
``queue.Queue(capacity)`` through ``model.history.Recorder`` (each thread
does its share of put_nowait / get_nowait / qsize, chosen by a seeded
random generator; the interleaving is the OS's), checks each against
``QueueSpec`` and prints the median check time.  The switch interval is
lowered while recording so that threads interleave finely and operations
overlap (CPython's default 5 ms would make histories nearly sequential).
Then it corrupts one history per size (two late gets swap their items),
which a correct queue cannot produce, and times the rejection and the
witness minimisation.
"""

from __future__ import annotations

import argparse
import math
import queue
import random
import statistics
import sys
import threading
import time

from model.history import History, Operation, Recorder
from model.linearizability import Verdict, check_history
from model.specs import QueueSpec, Raised


def record(ops: int, threads: int, capacity: int, seed: int, workload: str = "nowait") -> History:
    """A history of ``ops`` operations by ``threads`` real threads on one queue.Queue.

    ``nowait``: every thread mixes put_nowait / get_nowait / qsize.
    ``blocking``: half the threads put, half get, blocking, so that many
    calls wait at once and overlap (the harder case for the search).
    """
    recorder = Recorder()
    q = recorder.wrap(queue.Queue(capacity or 0))
    start = threading.Barrier(threads)
    if workload == "blocking":
        assert threads % 2 == 0, "the blocking workload needs an even number of threads"
        pairs = ops // 2
        half = threads // 2
        share = [pairs // half + (1 if t % half < pairs % half else 0) for t in range(threads)]
    else:
        share = [ops // threads + (1 if t < ops % threads else 0) for t in range(threads)]

    def worker(t: int) -> None:
        choose = random.Random(seed * 1000 + t).random
        start.wait()
        for i in range(share[t]):
            if workload == "blocking":
                if t < threads // 2:
                    q.put((t, i))
                else:
                    q.get()
                continue
            r = choose()
            try:
                if r < 0.45:
                    q.put_nowait((t, i))
                elif r < 0.9:
                    q.get_nowait()
                else:
                    q.qsize()
            except (queue.Full, queue.Empty):
                pass

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = [threading.Thread(target=worker, args=(t,), name=f"T{t}") for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
            assert not w.is_alive(), "a recording thread did not finish"
    finally:
        sys.setswitchinterval(old)
    return recorder.history({"source": "stress.linearizability_bench", "capacity": capacity})


def overlap(history: History) -> float:
    """Mean number of operations in flight at an invocation (1.0: sequential)."""
    running, total = 0, 0
    for _, invocation, _ in history.events():
        if invocation:
            running += 1
            total += running
        else:
            running -= 1
    return total / max(1, len(history))


def corrupt(history: History) -> History:
    """Swap the items of the last get and of a get about 10% of the history before it.

    The two gets and the two puts of their items are far apart in time, so
    the later item comes out while the earlier one is still ahead of it:
    no correct FIFO queue does that.
    """
    ops = list(history)
    gets = [i for i, op in enumerate(ops) if op.call.name.startswith("get") and not isinstance(op.result, Raised)]
    later = gets[-1]
    earlier = next(i for i in reversed(gets) if ops[i].responded < ops[later].invoked - len(ops) // 5)
    a, b = ops[earlier], ops[later]
    ops[earlier] = Operation(a.id, a.thread, a.call, a.invoked, a.responded, b.result)
    ops[later] = Operation(b.id, b.thread, b.call, b.invoked, b.responded, a.result)
    return History(ops, history.meta)


def timed(history: History, spec: QueueSpec, **options):
    started = time.perf_counter()
    result = check_history(history, spec, **options)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 4000, 8000])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--capacity", type=int, default=8, help="0: unbounded")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workload", choices=["nowait", "blocking"], default="nowait")
    args = parser.parse_args(argv)
    args.capacity = args.capacity or None
    spec = QueueSpec(args.capacity)
    what = "put_nowait/get_nowait/qsize" if args.workload == "nowait" else "blocking put/get, half each"
    print(
        f"queue.Queue({args.capacity}), {args.threads} threads, {what}; "
        f"check time is the median of {args.repeat} recorded histories\n"
    )
    print(f"{'ops':>6}  {'overlap':>7}  {'configs':>8}  {'check s':>8}  {'us/op':>6}  {'growth':>6}")
    previous = None
    rows = []
    for size in args.sizes:
        runs = []
        for seed in range(args.repeat):
            history = record(size, args.threads, args.capacity, seed, args.workload)
            seconds, result = timed(history, spec, time_limit=args.time_limit)
            if result.verdict is not Verdict.OK:
                print(result.report())
                return 1
            runs.append((seconds, result.configurations, overlap(history), history))
        runs.sort(key=lambda run: run[0])
        seconds, configs, mean_overlap, history = runs[len(runs) // 2]
        growth = "" if previous is None else f"{math.log(seconds / previous[1]) / math.log(size / previous[0]):.2f}"
        print(f"{size:>6}  {mean_overlap:>7.2f}  {configs:>8}  {seconds:>8.3f}  {1e6 * seconds / size:>6.1f}  {growth:>6}")
        previous = (size, seconds)
        rows.append((size, history))
    print("\nrejected (two gets far apart swap items): verdict, then witness minimisation")
    print(f"{'ops':>6}  {'reject s':>8}  {'minimise s':>10}  {'witness':>7}")
    for size, history in rows:
        bad = corrupt(history)
        seconds, result = timed(bad, spec, time_limit=args.time_limit, minimise=False)
        assert result.verdict is Verdict.NOT_LINEARIZABLE, result.report()
        _, shrunk = timed(bad, spec, time_limit=args.time_limit)
        print(f"{size:>6}  {seconds:>8.3f}  {shrunk.minimise_seconds:>10.3f}  {len(shrunk.witness):>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
