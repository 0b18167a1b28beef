"""Prometheus metrics of the controller, served on their own port.

- `<prefix>_reconcile_total{result}`: passes by outcome (unchanged, changed, degraded, error);
- `<prefix>_reconcile_duration_seconds`: a histogram of pass durations;
- `<prefix>_reconcile_errors_total{reason}`: failed passes by error class;
- `<prefix>_api_retries_total{reason}`: retried API requests by error class;
- `<prefix>_workqueue_depth`: objects waiting for a pass.

The metrics live in a registry of their own (not prometheus_client's global one), so that
several operators can run in one test process.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Thread
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from staticsite.machinery.errors import ApiError


class Metrics:
    """The operator's metrics, named `<prefix>_...` after the controller (e.g. `staticsite_`)."""

    def __init__(self, prefix: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.reconciliations = Counter(
            f"{prefix}_reconcile",
            "Reconciliation passes by outcome (unchanged, changed, degraded, error).",
            ["result"],
            registry=self.registry,
        )
        self.reconcile_duration = Histogram(
            f"{prefix}_reconcile_duration_seconds",
            "Time one reconciliation pass takes, API requests included.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.reconcile_errors = Counter(
            f"{prefix}_reconcile_errors",
            "Failed reconciliation passes by reason (an error class, or Unexpected).",
            ["reason"],
            registry=self.registry,
        )
        self.api_retries = Counter(
            f"{prefix}_api_retries",
            "API requests retried, by the error class that caused the retry.",
            ["reason"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            f"{prefix}_workqueue_depth",
            "Objects waiting for a reconciliation.",
            registry=self.registry,
        )

    def count_retry(self, error: ApiError) -> None:
        self.api_retries.labels(reason=type(error).__name__).inc()


@dataclass
class MetricsServer:
    """A running metrics endpoint (a thread of prometheus_client); `close()` stops it."""

    server: WSGIServer
    thread: Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(metrics: Metrics, address: str, port: int) -> MetricsServer:
    """Serve `/metrics` on `address:port` in a background thread."""
    server, thread = start_http_server(port, addr=address, registry=metrics.registry)
    return MetricsServer(server, thread)
