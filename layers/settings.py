"""The validated settings base of geo-rank: typed fields with limits, one error line.

Both settings objects derive from :class:`SettingsBase`: the engine's
(:class:`geo.settings.Settings`) and the downloaders' (:class:`layers.fetch.FetchSettings`).
A subclass declares each tunable once, as a pydantic field with its type, its default, its
limits (``ge``, ``gt``, ``le``, ``lt``, ``min_length``) and a comment naming the source of
the default. Validation is strict: ``hosting_batch = 2.7`` is refused, not truncated; a
string is not a number; ``nan`` and ``inf`` are refused. Every problem of one call is
collected into a single :class:`~layers.errors.SettingsError` line that names each key, the
value given and what is allowed, and an unknown key comes with the nearest valid names::

    invalid settings: hosting_batch = 2.7 (must be an integer >= 1); unknown setting
    poi_neighbors = 0 (did you mean poi_neighbours?)

The objects are frozen; :meth:`SettingsBase.replace` returns a validated copy.
"""

from __future__ import annotations

import difflib
import json
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo

from layers.errors import SettingsError, SettingsValidationError

#: Valid names offered for an unknown key (difflib similarity at least this).
NEAREST_CUTOFF = 0.6

#: Item types of list settings (costs by class, breakpoints, names).
Amount = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Name = Annotated[str, Field(min_length=1)]


class SettingsBase(BaseModel):
    """Frozen, strictly validated settings; subclasses only declare fields.

    Raises
    ------
    SettingsError
        On construction or :meth:`replace` with bad values or unknown keys: one line
        naming every key, its value and the allowed range.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    #: How these settings are called in messages ("settings", "fetch settings").
    kind: ClassVar[str] = "settings"
    #: Settings that no longer exist: name -> why (said when a file still sets one).
    retired: ClassVar[dict[str, str]] = {}

    def __init__(self, /, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_context=False)
            raise SettingsValidationError(
                f"invalid {self.kind}: " + "; ".join(problems(type(self), errors, values)),
                errors=errors,
            ) from None

    @classmethod
    def collect(cls, values: Mapping[str, Any], prefix: str = "") -> tuple[Self | None, list[str]]:
        """Validate ``values``; return ``(settings, [])`` or ``(None, problems)``.

        ``prefix`` is put before each key in the problems (``"fetch."`` for a TOML table),
        so a caller can report the problems of several objects in one line.
        """
        try:
            return cls(**values), []
        except SettingsValidationError as exc:
            return None, problems(cls, exc.errors, values, prefix)

    def replace(self, **overrides: Any) -> Self:
        """Return a validated copy with ``overrides`` applied."""
        return type(self)(**{**dict(self), **overrides})

    def as_dict(self) -> dict[str, Any]:
        """Settings as plain JSON values, in declaration order (provenance, cache keys)."""
        out: dict[str, Any] = {}
        for name, value in self:
            if isinstance(value, Path):
                value = str(value)
            out[name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def default_of(cls, name: str) -> Any:
        """The default value of setting ``name`` (for help texts)."""
        return cls.model_fields[name].get_default(call_default_factory=True)

    @classmethod
    def allowed(cls, name: str) -> str:
        """What setting ``name`` accepts, in words (``"an integer >= 1"``)."""
        info = cls.model_fields[name]
        return _describe(info.annotation, info.metadata)


def problems(cls: type[SettingsBase], errors: Sequence[Any], values: Mapping[str, Any],
             prefix: str = "") -> list[str]:
    """One phrase per bad key of pydantic's ``errors``: ``key = value (must be ...)``, in field
    order."""
    names = list(cls.model_fields)
    bad: dict[str, str] = {}
    for error in errors:
        key = str(error["loc"][0]) if error["loc"] else "?"
        if key in bad:
            continue
        shown = f"{prefix}{key} = {show_value(values.get(key, error.get('input')))}"
        if error["type"] == "extra_forbidden" and key in cls.retired:
            bad[key] = f"{shown} is no longer a setting: {cls.retired[key]}"
        elif error["type"] == "extra_forbidden":
            near = difflib.get_close_matches(key, names, n=3, cutoff=NEAREST_CUTOFF)
            hint = (f"did you mean {' or '.join(prefix + n for n in near)}?" if near else
                    f"no setting has a similar name; see {cls.__module__.replace('.', '/')}.py")
            bad[key] = f"unknown setting {shown} ({hint})"
        else:
            bad[key] = f"{shown} (must be {cls.allowed(key)})"
    order = {n: i for i, n in enumerate(names)}
    return [bad[k] for k in sorted(bad, key=lambda k: (order.get(k, len(order)), k))]


def read_toml(path: str | Path, flag: str = "--config") -> dict[str, Any]:
    """The TOML document at ``path``, or a :class:`SettingsError` naming ``flag`` and file."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError(f"{flag} {path}: no such file; check the path") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{flag} {path}: not valid TOML ({exc})") from None


def show_value(value: Any) -> str:
    """A value as the user wrote it (TOML-like: true, "text", [1.0, 2.0])."""
    try:
        return json.dumps(value, default=str)
    except ValueError:
        return repr(value)


_WORDS = {bool: ("true or false", "booleans"), int: ("an integer", "integers"),
          float: ("a number", "numbers"), str: ("a text", "texts"),
          Path: ("a path", "paths")}


def _describe(annotation: Any, metadata: list[Any], plural: bool = False) -> str:
    """Words for a field's type and limits: ``a number in [0, 1]``, ``a list of texts``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        inner = [m for meta in args[1:] for m in
                 (meta.metadata if isinstance(meta, FieldInfo) else [meta])]
        return _describe(args[0], [*inner, *metadata], plural)
    least = max([m.min_length for m in metadata if isinstance(m, at.MinLen)], default=0)
    if typing.get_origin(annotation) is dict:
        return "a table of names to " + _describe(args[1], [], plural=True)
    if typing.get_origin(annotation) is tuple:
        items = _describe(args[0], [], plural=True)
        return {0: "a list of ", 1: "a non-empty list of "}.get(
            least, f"a list of at least {least} ") + items
    if isinstance(annotation, types.UnionType):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    singular, many = _WORDS.get(annotation, (str(annotation), str(annotation)))
    if least:
        singular, many = f"a non-empty {singular.split(' ', 1)[1]}", f"non-empty {many}"
    pattern = next((m.pattern for m in metadata if getattr(m, "pattern", None)), None)
    return ((many if plural else singular) + _bounds(metadata)
            + (f" matching {pattern}" if pattern else ""))


def _bounds(metadata: list[Any]) -> str:
    """`` >= 0`` or `` in (0, 1]`` from annotated-types constraints."""
    low: tuple[str, Any] | None = None
    high: tuple[Any, str] | None = None
    for m in metadata:
        if isinstance(m, at.Ge | at.Gt):
            low = ("[", m.ge) if isinstance(m, at.Ge) else ("(", m.gt)
        elif isinstance(m, at.Le | at.Lt):
            high = (m.le, "]") if isinstance(m, at.Le) else (m.lt, ")")
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[0]:g}{high[1]}"
    if low:
        return f" {'>=' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'<=' if high[1] == ']' else '<'} {high[0]:g}"
    return ""
