"""Byte-exact signing for the Neuxnet Mini App OpenAPI, on neux-proto (Rust).

``sign(params, secret)`` is the lowercase hex SHA-256 of the parameters' canonical string, the
same bytes the Rust SDK and the platform's Java server sign. Values the platform's reference
signers render differently (floats, dicts, nested lists, None or bools in a list, ints beyond
64 bits) raise ``UnsupportedValueError`` instead of signing something the server will refuse.
"""

from ._neux import (
    SECRET_MASK,
    InvalidInputError,
    NeuxError,
    ReservedKeyError,
    UnsupportedValueError,
    canonical,
    first_difference,
    sign,
    token_request,
    verify,
)

__all__ = [
    "SECRET_MASK",
    "InvalidInputError",
    "NeuxError",
    "ReservedKeyError",
    "UnsupportedValueError",
    "canonical",
    "first_difference",
    "sign",
    "token_request",
    "verify",
]
