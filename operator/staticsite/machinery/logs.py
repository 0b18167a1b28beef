"""One logging pipeline for the operator's structlog lines and the stdlib records of kopf & co.

Every line is rendered by one structlog `ProcessorFormatter` on one stderr handler: JSON lines
when stderr is not a terminal, readable console lines when it is (or as `LOG_FORMAT` says).
kopf's record extras become plain fields (`k8s_ref` -> `namespace`, `name`, `kind`) or are
dropped (`settings`, `k8s_skip`), anything else unserialisable becomes a string, and bearer
tokens are scrubbed from every line as a last line of defence.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from staticsite.machinery.settings import LogFormat

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
_DROPPED_EXTRAS = frozenset({"settings", "k8s_skip"})
_SENSITIVE_KEYS = frozenset({"token", "authorization", "password", "api_key"})
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

# kopf logs these at info for every event or every re-login: mechanics, not news. -> debug
_ROUTINE_KOPF_MESSAGES = re.compile(
    r"^((Handler|Indexer) '.+' succeeded\."
    r"|(Initial authentication|Re-authentication) has (been initiated|finished)\."
    r"|Activity '.+' succeeded\.)$"
)
# kopf logs a failed request that it is about to retry as an error; nobody must act. -> warning
_RETRIED_KOPF_MESSAGES = re.compile(r"^Request attempt #\d+/\d+ failed; will retry")


def configure_logging(
    *, level: int = logging.INFO, fmt: LogFormat | None = None, stream: TextIO | None = None
) -> None:
    """Send every log line of the process through one handler on `stream` (default: stderr).

    `fmt` None picks console output for a terminal and JSON otherwise. Safe to call again.
    """
    stream = sys.stderr if stream is None else stream
    if fmt is None:
        fmt = "console" if stream.isatty() else "json"
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(default=str)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())

    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, record_extras],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(QuietKopfFilter(level))

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)

    # Python warnings (kopf emits some) become log records instead of raw stderr text.
    logging.captureWarnings(True)

    # Response bodies at debug level would print whole objects; kopf adds no handlers itself.
    logging.getLogger("kubernetes_asyncio").setLevel(max(level, logging.WARNING))
    # One line per liveness probe would drown everything else.
    logging.getLogger("aiohttp.access").setLevel(max(level, logging.WARNING))
    for name in ("kopf", "kopf.objects"):
        logging.getLogger(name).handlers.clear()


class QuietKopfFilter(logging.Filter):
    """Demote kopf's routine lines and retried requests, then apply the configured level."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("kopf"):
            message = record.getMessage()
            if record.levelno == logging.INFO and _ROUTINE_KOPF_MESSAGES.match(message):
                record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            elif record.levelno == logging.ERROR and _RETRIED_KOPF_MESSAGES.match(message):
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return record.levelno >= self.level


def record_extras(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Turn the extras of a stdlib record (kopf's especially) into plain JSON-safe fields."""
    record = event_dict.get("_record")
    if record is None or event_dict.get("_from_structlog"):
        return event_dict
    for key, value in vars(record).items():
        if key in _STANDARD_ATTRS or key in _DROPPED_EXTRAS or key.startswith("_"):
            continue
        if key == "k8s_ref" and isinstance(value, Mapping):
            for field in ("namespace", "name", "kind"):
                if value.get(field):
                    event_dict.setdefault(field, str(value[field]))
            continue
        event_dict.setdefault(key, _plain(value))
    return event_dict


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace the values of credential-named fields, and bearer tokens inside any text."""
    for key, value in event_dict.items():
        if key.lower() in _SENSITIVE_KEYS:
            event_dict[key] = "[redacted]"
        elif isinstance(value, str):
            event_dict[key] = _JWT.sub("[redacted]", _BEARER.sub(r"\1 [redacted]", value))
    return event_dict
