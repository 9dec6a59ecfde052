"""The Prometheus text format written by ``fedinet.metrics``."""

from __future__ import annotations

from fedinet.metrics import Counter, Gauge, Histogram


def test_counter_lines_escape_label_values() -> None:
    counter = Counter("x_total", "Things.", ("reason",))
    counter.inc('a "quoted"\nvalue\\')
    counter.inc("plain", amount=2)
    assert counter.get("plain") == 2
    assert list(counter.lines()) == [
        "# HELP x_total Things.",
        "# TYPE x_total counter",
        'x_total{reason="a \\"quoted\\"\\nvalue\\\\"} 1',
        'x_total{reason="plain"} 2',
    ]


def test_histogram_buckets_are_cumulative() -> None:
    histogram = Histogram("d_seconds", "Durations.", ("route",), buckets=(0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 3.0):
        histogram.observe(value, "/a")
    assert histogram.count("/a") == 4
    assert list(histogram.lines())[2:] == [
        'd_seconds_bucket{route="/a",le="0.1"} 2',
        'd_seconds_bucket{route="/a",le="1"} 3',
        'd_seconds_bucket{route="/a",le="+Inf"} 4',
        'd_seconds_sum{route="/a"} 3.65',
        'd_seconds_count{route="/a"} 4',
    ]


def test_gauge_samples_without_labels() -> None:
    gauge = Gauge("g", "A gauge.")
    assert gauge.samples([((), 1.5)]) == ["# HELP g A gauge.", "# TYPE g gauge", "g 1.5"]
