"""Type stubs of the compiled module (see ``neux``)."""

from typing import List, Literal, Mapping, Optional, Sequence, Tuple, Union

Scalar = Union[str, int, bool, None]
Value = Union[Scalar, List[Union[str, int]], Tuple[Union[str, int], ...]]

SECRET_MASK: str

class NeuxError(ValueError):
    """Base of every error neux raises for a value it will not sign or use."""

    key: Optional[str]
    kind: Optional[str]

class UnsupportedValueError(NeuxError):
    """A value the reference signers render differently: ``key`` names it, ``kind`` is one of
    ``float``, ``integer_out_of_range``, ``object``, ``nested_list``, ``null_in_list``,
    ``bool_in_list``."""

    key: str
    kind: str

class ReservedKeyError(NeuxError):
    """The key ``secret``: the signer adds the app secret itself."""

    key: str

class InvalidInputError(NeuxError):
    """A secret, client id, code, scope, dialect or timestamp that cannot be used."""

def sign(params: Mapping[str, Value], secret: str) -> str:
    """The signature: 64 lowercase hex digits."""

def canonical(
    params: Mapping[str, Value], mask_secret: bool = True, secret: Optional[str] = None
) -> str:
    """The canonical string; the secret as ``[REDACTED]`` unless ``mask_secret=False``."""

def verify(params: Mapping[str, Value], secret: str, signature: str) -> bool:
    """Whether ``signature`` signs ``params``, compared in constant time."""

def token_request(
    client_id: str,
    code: str,
    scope: str,
    timestamp: int,
    dialect: Literal["json", "form"] = "json",
    *,
    secret: str,
) -> dict:
    """The signed body of the code-for-token call, ``sign`` included."""

def first_difference(ours: str, theirs: str) -> Optional[int]:
    """The byte offset where two canonical strings first differ, or ``None``."""
