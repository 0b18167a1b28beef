"""The command line: `staticsite-operator run` and `staticsite-operator check`.

Exit codes: 0 success; 1 the access check failed (or the API was unusable); 2 a bad setting or
unusable credentials, reported in one line without a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from staticsite import __version__
from staticsite.example import CONTROLLER
from staticsite.machinery.errors import ConfigurationError
from staticsite.machinery.logs import configure_logging
from staticsite.machinery.runtime import run_check, run_operator
from staticsite.machinery.settings import load_settings

PROG = "staticsite-operator"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Run the StaticSite operator. Settings come from the environment."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="check access, then run the operator until SIGTERM")
    commands.add_parser("check", help="run the start-up access check alone; exit 0 or 1")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        configure_logging(level=settings.log_level, fmt=settings.log_format)
        if args.command == "check":
            return asyncio.run(run_check(settings, CONTROLLER))
        return asyncio.run(run_operator(settings, CONTROLLER))
    except ConfigurationError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
