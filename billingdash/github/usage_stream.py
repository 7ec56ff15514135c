"""Fast streaming decode of the usage report's ``usageItems`` array with msgspec.

msgspec decodes JSON in C, with every non-integer number handed to ``decimal.Decimal`` as
its text (exact; integers stay `int`, as with ijson's ``use_float=False``), and keeps
every key of an object. But it decodes whole documents only. So the body is read in
large chunks and cut at item boundaries: a candidate cut is a ``}`` followed by ``,``,
and ``[`` + the items before it + ``]`` is decoded in one call. A cut that falls inside
a string or inside a nested value cannot decode (the string stays open, or the appended
``]`` cannot close the nesting), so a successful decode proves the cut is a real item
boundary; a cut that fails at its very end (truncated, or rejected at the appended
``]``) backs off to an earlier candidate or waits for more data. An error before the
cut is in the data itself: invalid JSON.

The array's end and whatever follows it (``]}``, maybe more keys) are read to the end
of the body and checked: a truncated body or trailing garbage raises `InvalidJSON`. A
body that does not start like ``{... "usageItems": [`` goes, before anything is
yielded, to the general streaming parser (ijson) instead: `decode_batches`.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import ijson
import msgspec

__all__ = ["InvalidJSON", "UnexpectedShape", "decode_batches", "iter_batches"]

CHUNK_BYTES = 1 << 20
# The usageItems array must start within this many bytes of the body.
HEAD_LIMIT = 1 << 20
# An item (or what follows the array) larger than this is refused.
MAX_PENDING = 64 << 20
# Candidate cuts tried per attempt before reading more.
_TRIES = 4
# The general parser: items per batch; an empty report is checked if this small.
_GENERAL_BATCH = 1000
_SMALL_BODY = 64 * 1024
_WS = frozenset(b" \t\n\r")
_COMMA, _CLOSE = ord(","), ord("]")
_KEY = re.compile(rb'"usageItems"[ \t\n\r]*:[ \t\n\r]*\[')
_POSITION = re.compile(r"\(byte (\d+)\)")
_DECODE = msgspec.json.Decoder(float_hook=Decimal).decode
# Decoding failures. Besides invalid JSON: text that is not UTF-8, nesting deeper than
# msgspec goes, a number Decimal cannot hold (an exponent beyond 10**18).
_FAILED = (msgspec.DecodeError, UnicodeDecodeError, RecursionError, ArithmeticError)


class InvalidJSON(ValueError):
    """Invalid or truncated JSON; the message says where, briefly, and never quotes
    the body."""


class UnexpectedShape(Exception):
    """The body is not ``{... "usageItems": [ ...``; `head` is what was read of it."""

    def __init__(self, head: bytes) -> None:
        super().__init__("usage report does not start with a usageItems array")
        self.head = head


def _skip_ws(buf: bytes, i: int) -> int:
    n = len(buf)
    while i < n and buf[i] in _WS:
        i += 1
    return i


def _find_array(read: Callable[[int], bytes], chunk: int) -> tuple[bytes, int]:
    """Read until the top-level ``"usageItems": [``; return the buffer and the index
    just after the ``[``. A match counts only if the text before it plus
    ``"usageItems":0}`` is a JSON object, i.e. the key sits at the top level (not in a
    string, not in a nested value)."""
    buf = b""
    while True:
        more = read(chunk)
        buf += more
        i = _skip_ws(buf, 0)
        if i < len(buf) and buf[i] != ord("{"):
            raise UnexpectedShape(buf)
        for match in _KEY.finditer(buf):
            try:
                head = _DECODE(buf[: match.start()] + b'"usageItems":0}')
            except _FAILED:
                continue
            if isinstance(head, dict):
                return buf, match.end()
        if not more or len(buf) > HEAD_LIMIT:
            raise UnexpectedShape(buf)


def _error_kind(exc: Exception, size: int) -> str:
    """'end': the array closed inside the decoded text; 'cut': the error is at the very
    end of the text (a cut inside a string or a nested value); 'data': before it."""
    if not isinstance(exc, msgspec.DecodeError):
        return "data"
    message = str(exc)
    if "trailing characters" in message:
        return "end"
    found = _POSITION.search(message)
    if found is None or int(found.group(1)) >= size - 1:
        return "cut"
    return "data"


def _try_cut(buf: bytes, start: int) -> tuple[list[Any] | None, int, bool]:
    """Decode complete items from buf[start:]: (items, end index, array ended inside).
    (None, 0, False) when no candidate cut decodes yet."""
    end = len(buf)
    tries = 0
    while tries < _TRIES:
        k = buf.rfind(b"}", start, end)
        if k < 0:
            break
        end = k
        j = _skip_ws(buf, k + 1)
        if j >= len(buf) or buf[j] != _COMMA:
            continue
        tries += 1
        text = b"[" + buf[start : k + 1] + b"]"
        try:
            items = _DECODE(text)
        except _FAILED as exc:
            kind = _error_kind(exc, len(text))
            if kind == "end":
                return None, 0, True
            if kind == "data":
                raise InvalidJSON("invalid JSON in an item") from None
            continue
        return items, k + 1, False
    return None, 0, False


def _finish(rest: bytes) -> Iterator[list[Any]]:
    """`rest` is everything after the last cut (and its comma) to the end of the body:
    the last items, ``]``, and the rest of the top-level object."""
    text = b"[" + rest
    try:
        _DECODE(text)
    except _FAILED as exc:
        found = _POSITION.search(str(exc))
        if _error_kind(exc, len(text)) != "end" or found is None:
            raise InvalidJSON("invalid or truncated at the end") from None
        limit = int(found.group(1))
    else:
        raise InvalidJSON("truncated after the usageItems array")
    for _ in range(_TRIES):
        k = text.rfind(b"]", 0, limit)
        if k < 0:
            break
        limit = k
        try:
            items = _DECODE(text[: k + 1])
        except _FAILED:
            continue
        try:
            tail = _DECODE(b'{"":0' + text[k + 1 :])
        except _FAILED:
            raise InvalidJSON("truncated or trailing data after the usageItems array") from None
        if items:
            yield items
        more = tail.get("usageItems")  # a repeated key: a general parser yields it too
        if isinstance(more, list) and more:
            yield more
        return
    raise InvalidJSON("invalid JSON at the end")


def iter_batches(read: Callable[[int], bytes], *, chunk: int = CHUNK_BYTES) -> Iterator[list[Any]]:
    """Lists of the decoded items of ``usageItems``, in order, as the body is read.

    `read(n)` returns up to n bytes, ``b""`` at the end. Raises `UnexpectedShape`
    before yielding anything, `InvalidJSON` possibly after some batches."""
    buf, start = _find_array(read, chunk)
    # `start` is the first byte of the next item (after "[" or a ","), or, when
    # `need_comma`, just after the "}" of the last item cut.
    need_comma = False
    retry_at = 0  # do not retry cutting until this much is pending
    eof = False

    def fill(keep: int, need: int) -> None:
        """Drop buf[:keep]; read until `need` bytes are pending or the body ends."""
        nonlocal buf, start, eof
        buf, start = buf[keep:], start - keep
        while not eof and len(buf) < need:
            more = read(chunk)
            eof = not more
            buf += more

    def rest() -> bytes:
        return b"" if eof else _read_all(read, chunk, len(buf) - start)

    def advance() -> bool:
        """Move `start` past whitespace, reading as needed; False at the end."""
        nonlocal start
        while True:
            start = _skip_ws(buf, start)
            if start < len(buf):
                return True
            if eof:
                return False
            fill(start, 1)

    while True:
        if not advance():
            raise InvalidJSON("truncated")
        if need_comma:
            if buf[start] == _CLOSE:
                yield from _finish(buf[start:] + rest())
                return
            if buf[start] != _COMMA:
                raise InvalidJSON("invalid JSON between items")
            start += 1
            if not advance() or buf[start] == _CLOSE:
                raise InvalidJSON("invalid or truncated JSON after a comma")
            need_comma = False
        # A batch is at least a chunk (or what is left of the body).
        if len(buf) - start < max(chunk, retry_at):
            fill(start, max(chunk, retry_at))
        if eof:
            yield from _finish(buf[start:])
            return
        items, end, ended = _try_cut(buf, start)
        if ended:
            yield from _finish(buf[start:] + rest())
            return
        if items is None:
            # No complete item decodes yet: retry once twice as much is pending (an
            # item longer than a chunk costs linear time, not quadratic).
            pending = len(buf) - start
            if pending > MAX_PENDING:
                raise InvalidJSON("an item over 64 MiB, or invalid JSON")
            retry_at = 2 * pending
            continue
        retry_at = 0
        need_comma = True
        start = end
        yield items


def _read_all(read: Callable[[int], bytes], chunk: int, pending: int) -> bytes:
    parts = []
    while True:
        more = read(chunk)
        if not more:
            return b"".join(parts)
        parts.append(more)
        pending += len(more)
        if pending > MAX_PENDING:
            raise InvalidJSON("over 64 MiB after the last item")


def decode_batches(
    read: Callable[[int], bytes], *, chunk: int = CHUNK_BYTES
) -> Iterator[list[Any]]:
    """`iter_batches`, or ijson for a body of another shape. Raises `InvalidJSON` (or
    ``ijson.JSONError`` from ijson) for a body that is not a JSON object with a
    ``usageItems`` array, possibly after some batches."""
    try:
        batches = iter_batches(read, chunk=chunk)
        first = next(batches, None)
    except UnexpectedShape as exc:
        yield from _general(exc.head, read, chunk)
        return
    if first is not None:
        yield first
        del first  # hold one batch at a time
        yield from batches


def _general(head: bytes, read: Callable[[int], bytes], chunk: int) -> Iterator[list[Any]]:
    """ijson over `head` + the rest of the body (numbers as int/Decimal)."""
    seen = bytearray(head[:_SMALL_BODY])
    size = len(head)
    pending = [head]

    def replay(n: int) -> bytes:
        nonlocal size
        if n == 0:  # ijson probes read(0) to learn bytes vs str
            return b""
        if pending:
            return pending.pop()
        data = read(n if n > 0 else chunk)
        size += len(data)
        if len(seen) < _SMALL_BODY:
            seen.extend(data[: _SMALL_BODY - len(seen)])
        return data

    items = ijson.items(SimpleNamespace(read=replay), "usageItems.item", use_float=False)
    count = 0
    while True:
        try:
            batch = list(itertools.islice(items, _GENERAL_BATCH))
        except UnicodeDecodeError:  # e.g. a lone surrogate escape
            raise InvalidJSON("invalid text in a string") from None
        except ArithmeticError:  # a number Decimal cannot hold
            raise InvalidJSON("a number out of range") from None
        if not batch:
            break
        count += len(batch)
        yield batch
    if count == 0:
        # Nothing came out: make sure the body really was ``{"usageItems": []}``.
        try:
            data = json.loads(bytes(seen)) if size <= _SMALL_BODY else None
        except ValueError:
            data = None
        if not (isinstance(data, dict) and isinstance(data.get("usageItems"), list)):
            raise InvalidJSON("no usageItems list")
