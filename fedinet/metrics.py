"""Process-local metrics, written out in the Prometheus text format (version 0.0.4).

Counters and histograms live in this process and are cheap to update: a counter is one
dict increment keyed by its label values, a histogram a ``bisect`` plus two increments.
``fedinet.web.metrics`` renders them at ``/metrics``, together with gauges it reads from
PostgreSQL at scrape time (queue depth and age), which are the same for every process.

The format is small enough to write by hand, which spares a dependency: ``# HELP`` and
``# TYPE`` lines, then ``name{label="value"} number`` samples; a histogram adds cumulative
``_bucket`` samples with an ``le`` label, ``_sum`` and ``_count``.

This module imports nothing from fedinet, so every layer may count things.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Iterator, Sequence

__all__ = [
    "DELIVERIES",
    "HTTP_DURATION",
    "INBOX",
    "NOTE_REFUSALS",
    "REGISTRY",
    "Counter",
    "Gauge",
    "Histogram",
    "render",
]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{name}="{_escape(value)}"' for name, value in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


class _Metric:
    kind = ""

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labelnames = tuple(labels)

    def header(self) -> Iterator[str]:
        yield f"# HELP {self.name} {self.help.replace(chr(92), chr(92) * 2)}"
        yield f"# TYPE {self.name} {self.kind}"

    def lines(self) -> Iterator[str]:
        raise NotImplementedError


class Counter(_Metric):
    """A monotonically increasing count per combination of label values."""

    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount

    def get(self, *labels: str) -> float:
        return self.values.get(labels, 0.0)

    def lines(self) -> Iterator[str]:
        yield from self.header()
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labelnames, key)} {_number(value)}"


class Gauge(_Metric):
    """Values set when the page is rendered (from the database, say)."""

    kind = "gauge"

    def samples(self, values: Iterable[tuple[tuple[str, ...], float]]) -> list[str]:
        out = list(self.header())
        for key, value in values:
            out.append(f"{self.name}{_labels(self.labelnames, key)} {_number(value)}")
        return out

    def lines(self) -> Iterator[str]:
        return iter(())


class Histogram(_Metric):
    """Observations counted into cumulative buckets, per combination of label values."""

    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(buckets))
        # per label values: [count per bucket (the last one is +Inf)], sum
        self.series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}

    def observe(self, value: float, *labels: str) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = ([0] * (len(self.buckets) + 1), [0.0])
        series[0][bisect.bisect_left(self.buckets, value)] += 1
        series[1][0] += value

    def count(self, *labels: str) -> int:
        series = self.series.get(labels)
        return 0 if series is None else sum(series[0])

    def lines(self) -> Iterator[str]:
        yield from self.header()
        for key, (counts, total) in sorted(self.series.items()):
            running = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                running += count
                le = f'le="{_number(bound)}"'
                yield f"{self.name}_bucket{_labels(self.labelnames, key, le)} {running}"
            yield f"{self.name}_sum{_labels(self.labelnames, key)} {_number(total[0])}"
            yield f"{self.name}_count{_labels(self.labelnames, key)} {running}"


HTTP_DURATION = Histogram(
    "fedinet_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status class.",
    ("method", "route", "status"),
)
INBOX = Counter(
    "fedinet_inbox_requests_total",
    "POSTs to the inboxes: accepted (202) or rejected, with the rejection's reason.",
    ("result", "reason"),
)
DELIVERIES = Counter(
    "fedinet_deliveries_total",
    "Delivery attempts made by this process, by outcome: delivered, retry (scheduled "
    "again), failed (given up), released (stopped by shutdown) or crashed.",
    ("outcome",),
)
NOTE_REFUSALS = Counter(
    "fedinet_note_refusals_total",
    "Follow requests refused because the note failed a rule, by rule.",
    ("reason",),
)

REGISTRY: tuple[_Metric, ...] = (HTTP_DURATION, INBOX, DELIVERIES, NOTE_REFUSALS)


def render(extra: Iterable[str] = ()) -> str:
    """The exposition text of every registered metric, then the ``extra`` lines."""
    lines: list[str] = []
    for metric in REGISTRY:
        lines.extend(metric.lines())
    lines.extend(extra)
    return "\n".join(lines) + "\n"
