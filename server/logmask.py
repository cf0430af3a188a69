"""Personal data never reaches the log: a logging filter that masks mainland mobile numbers,
resident ID numbers and credentials in URLs in every line, its arguments and its traceback.

Installed on the handlers (not the loggers): a logger's filters see only what is logged on
that very logger, a handler's see every record that reaches it, from any module or library."""

from __future__ import annotations

import logging
import re
from typing import Final

# Digits on either side mean a longer number (a timestamp, an order number): not a phone.
_ID_NUMBER: Final = re.compile(r"(?<!\d)(\d{6})\d{11}([\dXx])(?![\dA-Za-z])", re.ASCII)
_PHONE: Final = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)", re.ASCII)
# /display?token=… and socket tickets: a device token in a log is a device anyone can be.
_CREDENTIAL: Final = re.compile(r"\b(token|ticket|secret|password)=[^&\s\"']+", re.IGNORECASE)


def mask(text: str) -> str:
    """The text with every ID number, mobile number and URL credential masked."""
    text = _ID_NUMBER.sub(r"\1***********\2", text)
    text = _PHONE.sub(r"\1****\2", text)
    return _CREDENTIAL.sub(r"\1=***", text)


class PersonalDataFilter(logging.Filter):
    """Rewrites the record in place: the formatted message (arguments merged in) and the
    traceback text are masked; the record is never dropped."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        # A filter that raised would raise at the caller's logging line; a malformed call is left
        # for the handler, which reports it as logging does.
        except Exception:  # noqa: BLE001
            return True
        masked = mask(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


def install(logger: logging.Logger | None = None) -> None:
    """Adds the filter to every handler of the logger (the root logger by default), once."""
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        install_on(handler)


def install_on(handler: logging.Handler) -> None:
    """For a handler added later (a test's capture, a file handler)."""
    if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
        handler.addFilter(PersonalDataFilter())
