"""The chunked msgspec decoder of the usage report (`usage_stream`) against ijson, the
reference: the same items, in the same order, with the same exact numbers, for any split
of the body into reads and any chunk size; every truncation fails; bodies of another
shape go to ijson. Property tests (hypothesis) plus the cases that matter most."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import ijson
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from billingdash.github import usage_stream
from billingdash.github.usage_stream import InvalidJSON, UnexpectedShape

# More examples for a deep run: FUZZ_EXAMPLES=20000 pytest tests/github/test_usage_stream.py
FUZZ = int(os.environ.get("FUZZ_EXAMPLES") or 0)

# -- building documents ------------------------------------------------------------------


def dump(value: Any, ws: str = "", ascii_only: bool = False) -> str:
    """JSON text with `ws` around every structural character; Decimals verbatim."""
    if isinstance(value, dict):
        pairs = (
            f"{ws}{json.dumps(k, ensure_ascii=ascii_only)}{ws}:{ws}{dump(v, ws, ascii_only)}{ws}"
            for k, v in value.items()
        )
        return "{" + ",".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ",".join(f"{ws}{dump(v, ws, ascii_only)}{ws}" for v in value) + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=ascii_only)


def document(items: list[Any], before: dict, after: dict, ws: str, ascii_only: bool) -> bytes:
    members = [f"{json.dumps(k)}{ws}:{ws}{dump(v, ws, ascii_only)}" for k, v in before.items()]
    members.append(f'"usageItems"{ws}:{ws}{dump(items, ws, ascii_only)}')
    members += [f"{json.dumps(k)}{ws}:{ws}{dump(v, ws, ascii_only)}" for k, v in after.items()]
    return (ws + "{" + ws + f"{ws},{ws}".join(members) + ws + "}" + ws).encode()


# Characters that matter to the cutter: item boundaries, escapes, nesting.
_TRICKY = st.sampled_from([*'{}[],:"\\/ \n\tabé€😀\x00\x1f', "},{", '"},{"', "\\u0041"])
_TEXT = st.lists(_TRICKY | st.characters(exclude_categories=("Cs",)), max_size=12).map("".join)
_KEYS = _TEXT | st.sampled_from(["date", "usageItems", "netAmount", "repositoryName"])
_NUMBERS = (
    st.integers(-(10**30), 10**30)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False, places=10)
)
_LEAVES = st.none() | st.booleans() | _NUMBERS | _TEXT
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=8,
)
_ITEM = st.dictionaries(_KEYS, _VALUES, max_size=6)
_ITEMS = st.lists(_ITEM | _VALUES, max_size=12)
_OTHER_KEYS = st.dictionaries(_KEYS.filter(lambda k: k != "usageItems"), _VALUES, max_size=2)
_WS = st.sampled_from(["", " ", "\n  ", "\t", "\r\n"])


def reader(data: bytes, sizes: list[int]) -> Any:
    """`read(n)` returning at most n bytes, in the given sizes (cycled)."""
    stream = io.BytesIO(data)
    counter = iter(range(10**9))

    def read(n: int) -> bytes:
        size = sizes[next(counter) % len(sizes)] if sizes else n
        return stream.read(max(1, min(n, size)))

    return read


def ours(data: bytes, sizes: list[int] | None = None, chunk: int = 1 << 20) -> list[Any]:
    read = reader(data, sizes or [])
    return [item for batch in usage_stream.decode_batches(read, chunk=chunk) for item in batch]


def reference(data: bytes) -> list[Any] | None:
    """ijson's items, or None where ijson fails or the body has no usageItems list.
    Deliberate difference: a lone surrogate escape ("\\ud800") fails ours (it could not
    be stored); ijson turns it into "?"."""
    try:
        items = list(ijson.items(io.BytesIO(data), "usageItems.item", use_float=False))
    except (ijson.JSONError, UnicodeError, ArithmeticError):
        return None
    try:
        body = json.loads(data)
        json.dumps(body, ensure_ascii=False, default=str).encode()
    except (ValueError, UnicodeError):
        return None
    if not items and not (isinstance(body, dict) and isinstance(body.get("usageItems"), list)):
        return None
    return items


def same(a: Any, b: Any) -> bool:
    """Equal values of equal types, Decimals digit for digit."""
    return repr(a) == repr(b)


# -- properties --------------------------------------------------------------------------


@settings(max_examples=FUZZ or 600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=_ITEMS,
    before=_OTHER_KEYS,
    after=_OTHER_KEYS,
    ws=_WS,
    ascii_only=st.booleans(),
    sizes=st.lists(st.integers(1, 97), min_size=1, max_size=5),
    chunk=st.integers(1, 300),
)
@example(items=[{"a": '"},{"'}, {"b": {"c": [{}]}}], before={}, after={}, ws="", ascii_only=False,
         sizes=[1], chunk=1)  # fmt: skip
def test_any_document_split_anyhow_gives_ijsons_items(
    items, before, after, ws, ascii_only, sizes, chunk
):
    data = document(items, before, after, ws, ascii_only)
    expected = reference(data)
    got = ours(data, sizes, chunk)
    assert same(got, expected)


@settings(max_examples=FUZZ or 300, deadline=None)
@given(items=st.lists(_ITEM, min_size=1, max_size=6), ws=_WS, data=st.data())
def test_every_truncation_fails(items, ws, data):
    body = document(items, {}, {}, ws, False)
    cut = data.draw(st.integers(0, len(body) - 1))
    prefix = body[:cut]
    if not prefix.strip():
        return
    if prefix.rstrip() == body.rstrip():  # only trailing whitespace was cut
        return
    sizes = data.draw(st.lists(st.integers(1, 50), min_size=1, max_size=3))
    with pytest.raises((InvalidJSON, ijson.JSONError)):
        ours(prefix, sizes, chunk=data.draw(st.integers(1, 64)))


@settings(max_examples=FUZZ or 300, deadline=None)
@given(items=st.lists(_ITEM, min_size=1, max_size=6), data=st.data())
def test_a_corrupted_byte_fails_or_agrees_with_ijson(items, data):
    body = bytearray(document(items, {}, {}, "", True))  # ASCII: a byte is a character
    at = data.draw(st.integers(0, len(body) - 1))
    body[at] = data.draw(st.sampled_from(b'{}[],:"\\ x0-.eE'))
    body = bytes(body)
    expected = reference(body)
    assume(expected is None or json_is_valid(body))
    try:
        got = ours(body, [data.draw(st.integers(1, 40))], chunk=data.draw(st.integers(1, 64)))
    except (InvalidJSON, ijson.JSONError):
        got = None
    assert same(got, expected)


def json_is_valid(body: bytes) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


# -- cases -------------------------------------------------------------------------------

ITEM = {
    "date": "2026-10-01T00:00:00Z",
    "product": "actions",
    "sku": "Actions Linux",
    "quantity": 163,
    "unitType": "Minutes",
    "pricePerUnit": Decimal("0.006"),
    "grossAmount": Decimal("0.978"),
    "discountAmount": Decimal("0.9780000000"),
    "netAmount": Decimal("0E-10"),
    "organizationName": "acme-corp",
    "repositoryName": "acme-corp/api",
}


def batches(data: bytes, chunk: int) -> Iterator[list[Any]]:
    return usage_stream.iter_batches(io.BytesIO(data).read, chunk=chunk)


def test_numbers_stay_exact_and_batches_are_chunk_sized():
    data = document([ITEM] * 5000, {}, {}, "", False)
    got = list(batches(data, 64 * 1024))
    assert len(got) > 10 and sum(map(len, got)) == 5000
    first = got[0][0]
    assert first == ITEM and same(first, ITEM)  # 0E-10 stays 0E-10, 0.9780000000 too
    assert type(first["quantity"]) is int


@pytest.mark.parametrize(
    "body",
    [
        b'{"usageItems":[{"a":1},]}',  # trailing comma
        b'{"usageItems":[{"a":1}{"b":2}]}',  # missing comma
        b'{"usageItems":[{"a":1}]',  # the object never closes
        b'{"usageItems":[{"a":1}]}x',  # trailing garbage
        b'{"usageItems":[{"a":1},{"b":tru}]}',
        b'{"usageItems":[{"a":"\xff"}]}',  # not UTF-8
        b'{"usageItems":[{"a":NaN}]}',
        b'{"usageItems":[{"a":-37.93e1444428512771510381}]}',  # beyond Decimal
    ],
)
def test_invalid_bodies_fail(body):
    for chunk in (1, 5, 1 << 20):
        with pytest.raises(InvalidJSON):
            list(batches(body, chunk))


def test_an_item_longer_than_a_chunk_and_a_nested_cut():
    big = {"x": [{"y": "}," * 5000}] * 20, "date": "z"}
    data = document([ITEM, big, ITEM], {}, {}, "", False)
    assert same(ours(data, [4096], chunk=1024), [ITEM, big, ITEM])


def test_other_keys_before_and_after_and_pretty_printing():
    data = document([ITEM, ITEM], {"total": 2, "usageItems2": [1]}, {"next": None}, "\n    ", False)
    assert same(ours(data, [3], chunk=16), [ITEM, ITEM])


def test_other_shapes_go_to_ijson():
    # The array starts more than a megabyte in; an escaped key; not an object.
    late = b'{"pad":"' + b"x" * (3 * usage_stream.HEAD_LIMIT) + b'","usageItems":[{"a":1}]}'
    with pytest.raises(UnexpectedShape):
        list(batches(late, 1 << 20))
    assert ours(late) == [{"a": 1}]
    assert ours(b'{"usage\\u0049tems":[{"a":1.50}]}') == [{"a": Decimal("1.50")}]
    assert ours(b'{"usage\\u0049tems":[]}') == []
    big = b'{"usage\\u0049tems":[1e1444428512771510381]}'  # ijson: beyond Decimal
    for shape in (b"[]", b'{"message":"Not Found"}', b"", b"null", big):
        with pytest.raises((InvalidJSON, ijson.JSONError)):
            ours(shape)


def test_truncation_at_every_position_fails():
    tricky = {"s": 'a"},{"b\\', "n": {"x": [{"y": "]}"}, []]}, "q": Decimal("1.50")}
    for ws in ("", "\n  "):
        body = document([ITEM, tricky, ITEM], {"total": 3}, {}, ws, False)
        assert same(ours(body, [7], chunk=16), [ITEM, tricky, ITEM])
        end = len(body.rstrip())
        for cut in range(end):
            for sizes, chunk in (([1], 1), ([7], 16), ([4096], 1 << 20)):
                with pytest.raises((InvalidJSON, ijson.JSONError)):
                    ours(body[:cut], sizes, chunk)


def test_empty_reports():
    for body in (b'{"usageItems":[]}', b' { "usageItems" : [ ] } ', b'{"usageItems":[],"x":1}'):
        assert ours(body, [1], chunk=1) == []


@pytest.mark.django_db
@pytest.mark.dates
def test_the_simulators_report_cache_serves_the_same_bytes(gh, simulator, user_token, monkeypatch):
    from billingdash.github import http

    token = user_token("olivia")
    path = "/organizations/acme-corp/settings/billing/usage"

    # Two complete months before the simulator's today (whatever the run's date is).
    first = simulator.state.clock.today().replace(day=1)
    months = {1: first - timedelta(days=1)}
    months[2] = months[1].replace(day=1) - timedelta(days=1)

    def body(month: int) -> bytes:
        params = {"year": months[month].year, "month": months[month].month}
        response = http.request("GET", path, token=token, params=params, stream=True)
        try:
            return response.raw.read(decode_content=True)
        finally:
            response.close()

    plain = body(1), body(2)
    config = simulator.state.config
    monkeypatch.setattr(config, "usage_cache_bytes", 64_000_000)  # SIM_USAGE_CACHE_MB=64
    first, again = body(1), body(1)  # rendered and kept, then served from memory
    assert plain[0] == first == again and len(first) > 10_000
    monkeypatch.setattr(config, "usage_cache_bytes", 1_000)  # too small to keep: streamed
    assert body(2) == body(2) == plain[1]
