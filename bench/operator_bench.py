"""How the operator behaves under load, measured against a control plane of its own.

Starts a fresh LocalCluster, installs the namespace, the CRD and rbac/ with kubectl, and runs the
operator as its ServiceAccount exactly as the end-to-end tests do. Then it measures the
operator's memory, how fast N new StaticSites turn Ready, the latency from a spec change to a
status that reports it, the API requests each reconciliation costs (read off the audit log),
what the operator sends while nothing changes, and its own reconcile counters.

It prints figures and never fails on a stopwatch; it exits 1 only when something never happens
at all. Run it from the repository root: `python -m bench.operator_bench [--sites N]`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from localcluster import LocalCluster
from localcluster.access import ClusterAccess, JsonObject, service_account_username
from localcluster.processes import tail
from tests.integration import harness
from tests.integration.harness import OperatorProcess

SITES = f"{harness.API}/namespaces/{harness.OPERATOR_NAMESPACE}/staticsites"
OPERATOR_USER = service_account_username(
    harness.OPERATOR_NAMESPACE, harness.OPERATOR_SERVICE_ACCOUNT
)
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
IDLE_SECONDS = 30.0
ALL_READY_TIMEOUT = 900.0
ONE_READY_TIMEOUT = 120.0

Request = tuple[float, str]


class BenchError(RuntimeError):
    """The operator never reached a state the benchmark waits for, within a generous bound."""


@dataclass
class Report:
    """Figures in the order they were measured: a key for JSON, a label and a unit for people."""

    rows: list[tuple[str, str, float, str]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def add(self, key: str, label: str, value: float, unit: str) -> None:
        self.rows.append((key, label, round(value, 3), unit))

    def table(self) -> str:
        width = max(len(label) for _, label, _, _ in self.rows)
        lines = [f"{'figure':<{width}}  {'value':>10}  unit", "-" * (width + 20)]
        lines += [f"{label:<{width}}  {value:>10g}  {unit}" for _, label, value, unit in self.rows]
        return "\n".join(lines)

    def as_json(self) -> JsonObject:
        figures = {key: {"value": value, "unit": unit} for key, _, value, unit in self.rows}
        return {"figures": figures, **self.details}


def install(cluster: ClusterAccess) -> None:
    """Apply the namespace, the CRD and rbac/ as a user would, and wait for the CRD."""
    manifests = harness.REPO / "manifests"
    cluster.kubectl(
        *("apply", "-f", str(manifests / "00-namespace.yaml")),
        *("-f", str(manifests / "10-crd.yaml"), "-f", str(harness.REPO / "rbac")),
    )
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/staticsites.sites.example.com", "--timeout=60s"
    )


def wait_watching(cluster: ClusterAccess, timeout: float = 60.0) -> None:
    """Wait until the audit log shows the operator's watches open on StaticSites and children,
    so that no phase is charged with the operator's start-up. Raises BenchError on timeout."""
    wanted = {"staticsites", "configmaps", "services", "deployments"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        watching = {
            event["objectRef"]["resource"]
            for event in cluster.audit_events(OPERATOR_USER)
            if event["verb"] == "watch" and event["responseStatus"].get("code") == 200
        }
        if wanted <= watching:
            return
        time.sleep(0.2)
    raise BenchError(f"the operator opened no watch on {sorted(wanted - watching)} in {timeout}s")


def create_all_ready(cluster: ClusterAccess, names: list[str]) -> float:
    """Create one StaticSite per name in a namespace that has no others, then poll until all are
    Ready; return the epoch second at which that was first seen. Raises BenchError if it is not
    seen within ALL_READY_TIMEOUT."""
    for name in names:
        cluster.request("POST", SITES, harness.site(name, {"index.html": f"<h1>{name}</h1>"}))
    deadline = time.monotonic() + ALL_READY_TIMEOUT
    ready = 0
    while time.monotonic() < deadline:
        items = cluster.request("GET", SITES)["items"]
        ready = sum(1 for item in items if harness.is_ready(item))
        if ready == len(names):
            return time.time()
        time.sleep(0.25)
    raise BenchError(f"{ready} of {len(names)} StaticSites Ready after {ALL_READY_TIMEOUT:.0f}s")


def change_latencies(cluster: ClusterAccess, names: list[str]) -> list[float]:
    """Scale each site up by one replica, one site after the other, and return per site the
    seconds from sending the merge patch until the status reports the new generation Ready."""
    latencies = []
    for name in names:
        path = f"{SITES}/{name}"
        replicas = int(cluster.request("GET", path)["spec"]["replicas"])
        started = time.monotonic()
        patch = {"spec": {"replicas": replicas + 1}}
        cluster.admin.patch(path, json=patch, headers=MERGE_PATCH).raise_for_status()
        cluster.wait_for(path, harness.is_ready, timeout=ONE_READY_TIMEOUT, interval=0.05)
        latencies.append(time.monotonic() - started)
    return latencies


def operator_requests(cluster: ClusterAccess, window: tuple[float, float]) -> list[Request]:
    """The operator's requests received within the window (epoch seconds), once each, as the
    second received and "verb resource"; a watch belongs to the window where it began."""
    start, end = window
    seen: set[str] = set()
    requests: list[Request] = []
    for event in cluster.audit_events(OPERATOR_USER):
        received = datetime.datetime.fromisoformat(event["requestReceivedTimestamp"]).timestamp()
        if event["auditID"] in seen or not start <= received < end:
            continue
        seen.add(event["auditID"])
        reference = event.get("objectRef") or {}
        parts = (reference.get("resource"), reference.get("subresource"))
        target = "/".join(part for part in parts if part) or event["requestURI"]
        requests.append((received, f"{event['verb']} {target}"))
    return requests


def writes(counts: Counter[str]) -> int:
    return sum(n for key, n in counts.items() if key.split()[0] in WRITE_VERBS)


def metric_samples(text: str) -> dict[str, float]:
    """The counters (`..._total`) and duration sums and counts on /metrics, keyed by sample
    name with its labels, e.g. `staticsite_reconcile_total{result=changed}`."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.endswith(("_total", "_seconds_sum", "_seconds_count")):
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(cluster: ClusterAccess, operator: OperatorProcess, sites: int, sample: int) -> Report:
    """Run every phase against a freshly started, healthy operator and collect the figures."""
    report = Report(details={"sites": sites, "sample": sample})
    wait_watching(cluster)
    add_memory(report, operator.process.pid, "empty", "watching, no sites")

    progress(f"creating {sites} StaticSites and waiting until all are Ready")
    names = [f"bench-{index:04d}" for index in range(sites)]
    created_at = time.time()
    ready_at = create_all_ready(cluster, names)
    report.add("create_s", f"create {sites} sites, all Ready", ready_at - created_at, "s")
    report.add("create_rate", "creation throughput", sites / (ready_at - created_at), "sites/s")
    add_memory(report, operator.process.pid, "ready", f"{sites} sites Ready")

    # The idle window starts as soon as everything is Ready: trailing work would show here.
    progress(f"idle for {IDLE_SECONDS:.0f}s")
    idle_at = time.time()
    time.sleep(IDLE_SECONDS)
    idle = (idle_at, time.time())

    progress(f"scaling {sample} sites one after the other")
    chosen = names[:: max(1, sites // sample)][:sample]
    changed_at = time.time()
    latencies = change_latencies(cluster, chosen)
    change = (changed_at, time.time())
    report.details["change_latencies_s"] = [round(value, 3) for value in latencies]
    report.add("change_p50_s", "spec change to Ready status, p50", percentile(latencies, 0.5), "s")
    report.add("change_p95_s", "spec change to Ready status, p95", percentile(latencies, 0.95), "s")
    report.add("change_max_s", "spec change to Ready status, max", max(latencies), "s")

    # The last requests of a window may reach the audit log a moment after their response.
    time.sleep(1.0)
    phases = {"creation": (created_at, ready_at), "change": change, "idle": idle}
    requests = {phase: operator_requests(cluster, window) for phase, window in phases.items()}
    counts = {phase: Counter(key for _, key in listed) for phase, listed in requests.items()}
    report.details["requests"] = {phase: dict(sorted(c.items())) for phase, c in counts.items()}
    for phase, per, unit in (("creation", sites, "site"), ("change", sample, "change")):
        total, written = sum(counts[phase].values()), writes(counts[phase])
        report.add(f"{phase}_writes", f"{phase}: writes per {unit}", written / per, "req")
        report.add(f"{phase}_reads", f"{phase}: reads per {unit}", (total - written) / per, "req")
    # Creation is paced by the cluster's controllers too; this is when the operator's part ended.
    applied = [when for when, key in requests["creation"] if key == "patch deployments"]
    applied_s = max(applied, default=ready_at) - created_at
    report.add("creation_applied_s", "creation: last Deployment applied after", applied_s, "s")
    idle_total = sum(counts["idle"].values())
    report.add("idle_writes", f"idle {IDLE_SECONDS:.0f}s: writes", writes(counts["idle"]), "req")
    report.add("idle_requests", f"idle {IDLE_SECONDS:.0f}s: all requests", idle_total, "req")

    add_counters(report, metric_samples(operator.metrics()))
    add_memory(report, operator.process.pid, "end", "at the end")
    return report


def add_memory(report: Report, pid: int, key: str, when: str) -> None:
    """The process's resident memory now (VmRSS) and at its peak so far (VmHWM), in MiB."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    status = dict(line.split(":", 1) for line in lines)
    for name, prefix, what in (("VmRSS", "rss", "RSS"), ("VmHWM", "hwm", "peak RSS")):
        mib = int(status[name].split()[0]) / 1024
        report.add(f"{prefix}_{key}_mib", f"operator {what}, {when}", mib, "MiB")


def add_counters(report: Report, samples: dict[str, float]) -> None:
    """Passes by result, their mean duration, and the REST client's retries, from /metrics."""
    report.details["metrics"] = samples
    for key, value in samples.items():
        if key.startswith("staticsite_reconcile_total{"):
            result = key.split("=", 1)[1].rstrip("}")
            report.add(f"reconcile_{result}", f"reconcile passes: {result}", value, "passes")
    passes = samples.get("staticsite_reconcile_duration_seconds_count", 0.0)
    mean = 1000 * samples.get("staticsite_reconcile_duration_seconds_sum", 0.0) / max(passes, 1)
    report.add("reconcile_mean_ms", "reconcile pass, mean duration", mean, "ms")
    retries = sum(v for k, v in samples.items() if k.startswith("staticsite_api_retries_total"))
    report.add("api_retries", "API requests retried by the operator", retries, "req")


def progress(message: str) -> None:
    print(f"operator_bench: {message}", file=sys.stderr, flush=True)


def log_problems(operator: OperatorProcess) -> dict[str, int]:
    """Warning and error lines of the operator's log by level and event, and lines not JSON."""
    lines = operator.json_lines()
    problems = Counter(
        f"{line.get('level')}: {line.get('event')}"
        for line in lines
        if line.get("level") in ("warning", "error", "critical")
    )
    unparsed = len(operator.output().splitlines()) - len(lines)
    if unparsed:
        problems["lines that are not JSON"] = unparsed
    return dict(problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.operator_bench", description=__doc__)
    parser.add_argument("--sites", type=int, default=200, help="StaticSites to create (200)")
    parser.add_argument("--sample", type=int, default=20, help="sites to scale one by one (20)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--log-level", default="info", help="the operator's LOG_LEVEL (info)")
    parser.add_argument("--workdir", type=Path, help="keep cluster state and operator log here")
    args = parser.parse_args(argv)
    if args.sites < 1 or not 1 <= args.sample <= args.sites:
        parser.error("need --sites >= 1 and 1 <= --sample <= --sites")

    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="operator-bench-") as scratch:
        folder = (args.workdir or Path(scratch)).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        cluster: LocalCluster | None = None
        access: ClusterAccess | None = None
        operator: OperatorProcess | None = None
        try:
            progress("starting the control plane and the operator")
            cluster = LocalCluster.start(folder / "cluster")
            access = ClusterAccess(cluster)
            install(access)
            env = harness.operator_environment(access, folder / "serviceaccount")
            env["LOG_LEVEL"] = args.log_level
            operator = harness.start_operator(env, folder / "operator.log")
            report = measure(access, operator, args.sites, args.sample)
        except (AssertionError, RuntimeError, httpx.HTTPError) as error:
            print(f"operator_bench: {error}", file=sys.stderr)
            if operator is not None:
                print(f"end of the operator's log:\n{tail(operator.log, 40)}", file=sys.stderr)
            return 1
        finally:
            if operator is not None:
                operator.terminate()
            if access is not None:
                access.close()
            if cluster is not None:
                cluster.stop()
        report.details["operator_log_problems"] = log_problems(operator)
        report.details["operator_exit_code"] = operator.process.returncode

    report.add("wall_s", "benchmark wall time", time.monotonic() - began, "s")
    print(report.table())
    print("operator requests by verb and resource:")
    for phase, counts in report.details["requests"].items():
        print(f"  {phase}: " + ", ".join(f"{key} {n}" for key, n in counts.items()))
    problems: dict[str, int] = report.details["operator_log_problems"]
    print(f"operator log, warnings and errors: {sum(problems.values())}")
    for event, n in problems.items():
        print(f"  {n} x {event[:160]}")
    print(f"operator exit code after SIGTERM: {report.details['operator_exit_code']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
