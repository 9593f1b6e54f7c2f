"""Latency summaries for the Python load drivers, in milliseconds as in the results file."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Return the nearest-rank percentile of already sorted values, or 0.0 for none."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary_ms(latencies_s: Iterable[float]) -> dict[str, float]:
    """Summarize latencies given in seconds as milliseconds: p50, p90, p99 and max."""
    ordered = sorted(latencies_s)
    return {
        "p50": round(percentile(ordered, 0.50) * 1000, 3),
        "p90": round(percentile(ordered, 0.90) * 1000, 3),
        "p99": round(percentile(ordered, 0.99) * 1000, 3),
        "max": round((ordered[-1] if ordered else 0.0) * 1000, 3),
    }


def count_non_2xx(statuses: Counter[int]) -> int:
    return sum(count for status, count in statuses.items() if not 200 <= status <= 299)
