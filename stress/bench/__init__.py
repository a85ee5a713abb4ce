"""The performance benchmark of mq: ``python -m stress.bench [--json FILE] [--quick]``.

Every figure is measured in one process, side by side with its baseline
(``queue.Queue`` in the same shape), as the median of several repeats with
their min and max; the ratio is ours over the baseline's (higher is better).
The figures and their exact definitions are in docs/performance.md.

- `stress.bench.figures`  the repeat / median / ratio arithmetic, the JSON
  records and the printed table (no timing of its own);
- `stress.bench.queues`   producer / consumer workloads on any object with
  ``put`` / ``get`` (or ``put_many`` / ``get_many``);
- `stress.bench.broker`   publish -> get -> ack workloads;
- `stress.bench.memory`   bytes per queued message, with tracemalloc;
- `stress.bench.suite`    which figure runs which workload, and the sizes.
"""
