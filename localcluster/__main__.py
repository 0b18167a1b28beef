"""Command line for the local control plane: `build`, `up`, `down` and `status`.

`up` is idempotent: a cluster already running in the state folder is left as it is.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from localcluster import binaries, gobuild
from localcluster.cluster import ClusterError, LocalCluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localcluster", description=__doc__)
    parser.add_argument(
        "--state-dir", type=Path, default=Path(".cluster"), help="where the cluster's state lives"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help="find or build every binary, printing where each is")
    up = commands.add_parser("up", help="start the cluster in the background unless it runs")
    up.add_argument("--no-kwok", action="store_true", help="no scheduler and no fake node")
    commands.add_parser("down", help="stop the cluster and leave no process behind")
    commands.add_parser("status", help="say whether the cluster runs; exit 1 if not")
    args = parser.parse_args(argv)

    try:
        if args.command == "build":
            for name, path in binaries.resolve(binaries.COMPONENTS).items():
                print(f"{name}: {path}")
            return 0
        state_dir: Path = args.state_dir.resolve()
        existing = LocalCluster.attach(state_dir)
        if args.command == "up":
            return _up(state_dir, existing, with_kwok=not args.no_kwok)
        if args.command == "down":
            if existing is not None:
                existing.stop()
            print("localcluster: stopped")
            return 0
        if existing is not None and existing.running():
            print(f"localcluster: running at {existing.server}, kubeconfig {existing.kubeconfig}")
            return 0
        print("localcluster: not running")
        return 1
    except (gobuild.BuildError, ClusterError) as error:
        print(f"localcluster: {error}", file=sys.stderr)
        return 1


def _up(state_dir: Path, existing: LocalCluster | None, *, with_kwok: bool) -> int:
    if existing is not None and existing.running():
        print(f"localcluster: already running at {existing.server}")
        return 0
    if existing is not None:
        existing.stop()
    started = time.monotonic()
    cluster = LocalCluster.start(state_dir, with_kwok=with_kwok)
    print(
        f"localcluster: ready at {cluster.server} in {time.monotonic() - started:.1f}s\n"
        f"  kubeconfig: {cluster.kubeconfig}\n  kubectl:    {cluster.kubectl_path()}\n"
        f"  logs:       {cluster.logs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
