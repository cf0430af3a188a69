"""The log filter masks mobile numbers, resident ID numbers and URL credentials in the message,
its arguments and its traceback, and leaves everything else alone."""

from __future__ import annotations

import io
import logging

import pytest

from server.logmask import PersonalDataFilter, install, install_on, mask


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("SMS to 13812341234: 请到 5 号窗口", "SMS to 138****1234: 请到 5 号窗口"),
        ("to=13812341234,19900001111", "to=138****1234,199****1111"),
        ("id 11010519491231002X ok", "id 110105***********X ok"),
        ("id 11010519491231002x", "id 110105***********x"),
        ("id 371102198810251231.", "id 371102***********1."),
        ("GET /display?token=abc-DEF_123&layout=led", "GET /display?token=***&layout=led"),
        ('{"ticket": 1, "password=hunter2"}', '{"ticket": 1, "password=***"}'),
    ],
)
def test_mask(text: str, masked: str):
    assert mask(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "seq 1733011200000 at 2026-12-01T10:02:11+08:00",  # 13 digits: a timestamp
        "window 15 called A012, 7 waiting, 1234567890",  # 10 digits
        "hall rizhao: 130 windows, 160 clerks",
        "order 123456789012345678901",  # 21 digits
    ],
)
def test_what_is_not_personal_is_left_alone(text: str):
    assert mask(text) == text


def capture() -> tuple[logging.Logger, io.StringIO, logging.Handler]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger(f"test.logmask.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return logger, stream, handler


def test_arguments_and_tracebacks_are_masked():
    logger, stream, handler = capture()
    install(logger)
    install(logger)  # once is enough, twice does no harm
    assert sum(isinstance(f, PersonalDataFilter) for f in handler.filters) == 1
    logger.info("SMS to %s: %s (%s)", "13912345678", "您的 A012 号", "called:7")
    logger.info("citizen %(id)s", {"id": "11010519491231002X"})
    try:
        raise RuntimeError("gateway refused 13700001234")
    except RuntimeError:
        logger.exception("sending to %s failed", "13600001234")
    out = stream.getvalue()
    assert "SMS to 139****5678: 您的 A012 号 (called:7)" in out
    assert "citizen 110105***********X" in out
    assert "sending to 136****1234 failed" in out
    assert "RuntimeError: gateway refused 137****1234" in out
    assert "Traceback" in out
    for raw in ("13912345678", "11010519491231002X", "13700001234", "13600001234"):
        assert raw not in out


def test_a_malformed_call_is_not_the_filters_to_raise():
    logger, stream, handler = capture()
    install_on(handler)
    handler.handleError = lambda record: stream.write("handled\n")  # logging's own report
    logger.info("two %s %s", "args only one")  # noqa: PLE1206  (the point of the test)
    logger.info("after 13812341234")
    assert "handled" in stream.getvalue()
    assert "after 138****1234" in stream.getvalue()
