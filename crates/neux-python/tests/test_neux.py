"""The Python binding against the shared vectors, the refusals, and a sign/verify round trip.

Run against the installed wheel (``cargo xtask ci`` installs it into a fresh venv and runs
pytest from outside the source tree). The vectors come from ``NEUX_VECTORS`` or from
``../shared/vectors/sign-vectors.json`` beside the repository; without them the test fails.
"""

import hashlib
import json
import os
import pathlib
import random
import sys
import types
from collections import OrderedDict

import pytest

import neux

HERE = pathlib.Path(__file__).resolve().parent
DEFAULT_VECTORS = HERE.parents[3] / "shared" / "vectors" / "sign-vectors.json"


def vectors():
    path = pathlib.Path(os.environ.get("NEUX_VECTORS", DEFAULT_VECTORS))
    assert path.is_file(), f"no signature vectors at {path}: set NEUX_VECTORS"
    found = json.loads(path.read_text(encoding="utf-8"))["vectors"]
    assert len(found) >= 8
    return found


VECTORS = vectors()


def test_runs_from_the_installed_package():
    # The wheel, not the source folder: the module is a compiled extension under site-packages.
    if os.environ.get("NEUX_EXPECT_INSTALLED") == "1":
        assert "site-packages" in neux.__file__, neux.__file__
    assert neux._neux.__file__.endswith((".so", ".pyd")), neux._neux.__file__


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_signs_to_its_digest(v):
    params = json.loads(v["params_json"])
    assert neux.sign(params, v["secret"]) == v["sign"]


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_every_vector_has_its_canonical_string(v):
    params = json.loads(v["params_json"])
    exact = neux.canonical(params, mask_secret=False, secret=v["secret"])
    assert exact == v["canonical"]
    assert hashlib.sha256(exact.encode("utf-8")).hexdigest() == v["sign"]
    masked = neux.canonical(params)
    assert masked == v["canonical"].replace(
        f"secret={v['secret']}", f"secret={neux.SECRET_MASK}", 1
    )
    assert v["secret"] not in masked or v["secret"] in v["params_json"]


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_sign_then_verify(v):
    params = json.loads(v["params_json"])
    signature = neux.sign(params, v["secret"])
    assert neux.verify(params, v["secret"], signature)
    assert not neux.verify(params, v["secret"] + "x", signature)
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    assert not neux.verify(params, v["secret"], flipped)
    assert not neux.verify(params, v["secret"], "not hex")
    assert not neux.verify(params, v["secret"], "")


def test_the_published_token_request():
    # The published check is the form dialect's (the app id under `appid`).
    form = neux.token_request(
        "demo-appid", "abc123", "user.info", 1700000000000, "form", secret="demo-secret"
    )
    assert form == {
        "appid": "demo-appid",
        "code": "abc123",
        "grantType": "authorization_code",
        "scope": "user.info",
        "timestamp": 1700000000000,
        "sign": "964bd40923c2f8911560c18cb06f580d3d26436378c11edff3f0691e4db00242",
    }
    assert list(form)[-1] == "sign"
    # The JSON dialect (the default) signs the app id under `clientId`.
    body = neux.token_request(
        "demo-appid", "abc123", "user.info", 1700000000000, secret="demo-secret"
    )
    assert body["clientId"] == "demo-appid" and "appid" not in body
    unsigned = {k: v for k, v in body.items() if k != "sign"}
    assert neux.verify(unsigned, "demo-secret", body["sign"])
    assert body["sign"] != form["sign"]
    with pytest.raises(neux.InvalidInputError, match="dialect"):
        neux.token_request("a", "c", "user.info", 1, "xml", secret="s")
    with pytest.raises(neux.InvalidInputError, match="secret"):
        neux.token_request("a", "c", "user.info", 1, secret="")
    with pytest.raises(neux.InvalidInputError, match="scope"):
        neux.token_request("a", "c", "no such scope", 1, secret="s")


@pytest.mark.parametrize(
    "value, kind",
    [
        (1.5, "float"),
        (1.0, "float"),
        (float("nan"), "float"),
        ({"nested": 1}, "object"),
        ([["a"]], "nested_list"),
        (["a", None], "null_in_list"),
        ([True], "bool_in_list"),
        ([1.5], "float"),
        (2**64, "integer_out_of_range"),
        (-(2**63) - 1, "integer_out_of_range"),
    ],
)
def test_values_the_references_render_differently_are_refused(value, kind):
    with pytest.raises(neux.UnsupportedValueError) as caught:
        neux.sign({"appid": "a", "amount": value}, "s")
    assert caught.value.key == "amount"
    assert caught.value.kind == kind
    assert isinstance(caught.value, neux.NeuxError)
    assert isinstance(caught.value, ValueError)
    assert "amount" in str(caught.value)


def test_the_secret_key_and_bad_types_are_refused_without_showing_values():
    with pytest.raises(neux.ReservedKeyError) as caught:
        neux.sign({"secret": "leaked-value"}, "s")
    assert caught.value.key == "secret"
    assert "leaked-value" not in str(caught.value)
    with pytest.raises(TypeError, match="keys are str"):
        neux.sign({1: "a"}, "s")
    with pytest.raises(TypeError, match="bytes"):
        neux.sign({"data": b"raw-bytes"}, "s")
    with pytest.raises(TypeError, match="Mapping"):
        neux.sign([("a", "b")], "s")
    with pytest.raises(neux.InvalidInputError):
        neux.sign({"a": "b"}, "")
    with pytest.raises(neux.InvalidInputError, match="needs the secret"):
        neux.canonical({"a": "b"}, mask_secret=False)


def test_values_sign_as_the_java_server_renders_them():
    # Exact integers past 2**53, booleans, null as empty, lists joined with ",", keys in
    # UTF-16 order, `sign` and `fileData` left out, any Mapping accepted.
    params = OrderedDict(
        [
            ("big", 2**64 - 1),
            ("neg", -(2**63)),
            ("flag", True),
            ("none", None),
            ("ids", [1, "b", 3]),
            ("tuple", ("x", 2)),
            ("Zeta", "z"),
            ("\uffff", "bmp"),
            ("\U0001f600", "astral"),
            ("sign", "ignored"),
            ("fileData", "ignored"),
        ]
    )
    expected = (
        "Zeta=zbig=18446744073709551615flag=trueids=1,b,3neg=-9223372036854775808none="
        "secret=[REDACTED]tuple=x,2\U0001f600=astral\uffff=bmp"
    )
    assert neux.canonical(params) == expected
    exact = expected.replace("[REDACTED]", "k")
    assert neux.sign(params, "k") == hashlib.sha256(exact.encode()).hexdigest()


def test_first_difference_finds_the_first_differing_byte():
    ours = neux.canonical({"appid": "a", "amount": 100})
    theirs = ours.replace("amount=100", "amount=100.0")
    at = neux.first_difference(ours, theirs)
    assert ours.encode()[:at] == theirs.encode()[:at]
    assert theirs.encode()[at:].startswith(b".0")
    assert neux.first_difference(ours, ours) is None
    assert neux.first_difference("é", "e") == 0


def test_a_naive_python_signer_differs_where_the_binding_refuses():
    # The `sign.py` style: str() of each value. It signs what the Java server renders
    # otherwise; the binding refuses instead of producing a signature the server rejects.
    def naive(params, secret):
        items = dict(params, secret=secret)
        text = "".join(f"{k}={items[k]}" for k in sorted(items))
        return hashlib.sha256(text.encode()).hexdigest()

    agree = {"appid": "a", "n": 5, "s": "x"}
    assert naive(agree, "k") == neux.sign(agree, "k")
    for value in (True, None, [1, 2], 1.5):
        params = {"appid": "a", "v": value}
        try:
            ours = neux.sign(params, "k")
        except neux.UnsupportedValueError:
            continue
        assert ours != naive(params, "k"), value


def _random_params(rng):
    keys = ["a", "Zeta", "sign", "fileData", "Sign", "secretary", "\uffff", "\U0001f600", "é", "k"]
    values = [
        lambda: "".join(rng.choice("ab=,&é\u0600\U0001f600 ") for _ in range(rng.randrange(6))),
        lambda: rng.randrange(-(2**63), 2**63),
        lambda: rng.choice([0, -1, 2**63 - 1, -(2**63), 2**63, 2**64 - 1]),
        lambda: rng.choice([True, False, None]),
        lambda: [rng.randrange(100), "x"],
    ]
    return {
        rng.choice(keys) + str(rng.randrange(3)): rng.choice(values)()
        for _ in range(rng.randrange(8))
    }


def test_the_fast_reader_signs_as_the_general_one():
    # A plain dict of str, int, bool and None is read without copying (TextParams); any other
    # mapping goes through the general reader. The two must sign, show and verify alike.
    rng = random.Random(20261207)
    for _ in range(2000):
        params = _random_params(rng)
        general = types.MappingProxyType(params)
        assert neux.sign(params, "k") == neux.sign(general, "k"), params
        assert neux.canonical(params) == neux.canonical(general)
        exact = neux.canonical(params, mask_secret=False, secret="k")
        assert exact == neux.canonical(general, mask_secret=False, secret="k")
        assert neux.sign(params, "k") == hashlib.sha256(exact.encode()).hexdigest()
        assert neux.verify(params, "k", neux.sign(general, "k"))
    with pytest.raises(neux.ReservedKeyError):
        neux.sign({"a": "1", "secret": "x"}, "k")
    with pytest.raises(neux.ReservedKeyError):
        neux.sign(types.MappingProxyType({"a": "1", "secret": "x"}), "k")


def test_key_orders_are_kept_without_mixing_dicts_up():
    # The fast reader keeps the key orders of dicts it has seen, found by the identity of their
    # key objects. Here: many orders of the same keys, more orders than are kept, keys of the
    # same text but other objects, and fresh keys made and dropped call after call, each dict
    # checked against the general reader.
    rng = random.Random(7)
    names = ["appid", "amount", "code", "nonce", "scope", "timestamp", "sign", "secretary"]
    shapes = []
    for _ in range(40):
        rest = [n for n in names[1:] if rng.random() < 0.5]
        rng.shuffle(rest)
        shapes.append(["appid", *rest])
    shapes += [[f"first{f}", "appid", "code"] for f in range(100)]

    def value():
        return rng.choice([f"v{rng.randrange(100)}", rng.randrange(1000), True, None])

    for _ in range(5000):
        shape = rng.choice(shapes)
        keys = shape[: len(shape) - rng.randrange(2)]
        if rng.random() < 0.2:
            # The same text in new string objects.
            keys = ["".join(list(k)) for k in keys]
        params = {k: value() for k in keys}
        assert neux.sign(params, "k") == neux.sign(types.MappingProxyType(params), "k"), params
    for i in range(2000):
        params = {f"fresh{rng.randrange(10**6)}-{i}": value() for _ in range(rng.randrange(1, 6))}
        assert neux.sign(params, "k") == neux.sign(types.MappingProxyType(params), "k"), params
        del params


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
