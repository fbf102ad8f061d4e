"""Config errors, by file and key and in the interface language: what the config models raise, and how it reads.

The models of config files derive from FileModel and check with the validators here. Every error
reads as the catalog message `config_error.<type>`: pydantic's own types (missing, extra_forbidden,
int_type, greater_than_equal, ...) and the project's checks, which raise `fault(type, **values)`.
No English text of pydantic reaches the person: a type the catalogs lack reads as
config_error.invalid. Settings and the policy files share this wording.
"""

from __future__ import annotations

import json
import re
import tomllib
import types
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
from pydantic import AfterValidator, BaseModel, ConfigDict, GetCoreSchemaHandler, ValidationError, ValidationInfo
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema


class FileModel(BaseModel):
    """A table of a config file. An unknown key is an error (a typo is never ignored), and values
    keep TOML's types: "5" is not 5 and true is not 1."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def fault(kind: str, **values: Any) -> PydanticCustomError:
    """The error a validator raises for a check of its own: message config_error.<kind>, filled
    with `values` and {input}, the value at fault."""
    return PydanticCustomError(kind, kind, values)


def faults(found: Iterable[tuple[tuple[str | int, ...], PydanticCustomError, Any]]) -> ValidationError:
    """Several errors from one validator at once, each (loc, fault, input) at its key below the
    value validated: a check of a whole list names the item and the key at fault."""
    details = [InitErrorDetails(type=error, loc=loc, input=value) for loc, error, value in found]
    return ValidationError.from_exception_data("config", details)


@dataclass(frozen=True, slots=True)
class OneOf:
    """Annotated metadata: the text must be one of `choices` (listed when it is not, and when it is missing)."""

    choices: tuple[str, ...]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: str) -> str:
        if value not in self.choices:
            raise fault("one_of", known=", ".join(self.choices))
        return value


def one_of(choices: Iterable[str]) -> OneOf:
    return OneOf(tuple(choices))


def once(table: str) -> AfterValidator:
    """A value each row of `table` must hold alone (a code, a team): a repeat is an error. The
    file's validation context keeps what was seen, so a repeat is found even in a row with other errors."""

    def check(value: Any, info: ValidationInfo) -> Any:
        seen: set[Any] = info.context.setdefault(("seen", table), set()) if isinstance(info.context, dict) else set()
        if value in seen:
            raise fault("duplicate")
        seen.add(value)
        return value

    return AfterValidator(check)


def defined_in(names: str, kind: str) -> AfterValidator:
    """A name another file defines: the context's `names` holds them (absent when that file could
    not be read, and then nothing is checked); a name it lacks is error `kind`."""

    def check(value: str, info: ValidationInfo) -> str:
        known = info.context.get(names) if isinstance(info.context, dict) else None
        if known is not None and value not in known:
            raise fault(kind, known=", ".join(known))
        return value

    return AfterValidator(check)


def checked(test: Callable[[Any], bool], kind: str, **values: Any) -> AfterValidator:
    """A value `test` accepts; any other is error `kind` (with `values`)."""

    def check(value: Any) -> Any:
        if not test(value):
            raise fault(kind, **values)
        return value

    return AfterValidator(check)


def parses(parse: Callable[[str], Any], kind: str) -> AfterValidator:
    """Text that `parse` reads without a ValueError (a time of day, a date); any other is error `kind`."""

    def check(text: str) -> str:
        try:
            parse(text)
        except ValueError:
            raise fault(kind) from None
        return text

    return AfterValidator(check)


NonBlank = Annotated[str, checked(lambda text: bool(text.strip()), "blank")]
"""Text with something in it besides spaces."""

# A TOML bare key; any other is shown quoted, as the file must write it ("120+").
_BARE = re.compile(r"[A-Za-z0-9_-]+")
# Where tomllib says a syntax error is: "Invalid value (at line 3, column 9)".
_TOML_AT = re.compile(r"(?P<error>.*) \(at (?:line (?P<line>\d+), column (?P<column>\d+)|end of document)\)")
# pydantic's types that say the same thing to the person.
_SAME = {
    "int_parsing": "int_type",
    "int_from_float": "int_type",
    "float_parsing": "float_type",
    "bool_parsing": "bool_type",
    "tuple_type": "list_type",
    "set_type": "list_type",
    "model_type": "dict_type",
    "model_attributes_type": "dict_type",
    "datetime_parsing": "datetime_type",
    "datetime_from_date_parsing": "datetime_type",
    "literal_error": "one_of",
}
# What a missing key of these types takes (config_kind.<name>).
_KINDS: dict[Any, str] = {bool: "bool", int: "int", float: "number", str: "text", Path: "text"}


def key_path(loc: Sequence[str | int]) -> str:
    """A key path as the file spells it: bucket[0].label_en, promise.max_days."120+"."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":  # pydantic's mark of an error in a table's key: the path names the key already
            name = part if _BARE.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            text += f".{name}" if text else name
    return text


def at(file: str | Path, loc: Sequence[str | int] = ()) -> str:
    """Where a problem is: the file, and the key path inside it when there is one."""
    path = key_path(loc)
    return f"{file}: {path}" if path else str(file)


def message(kind: str, **values: Any) -> str:
    """The text of config error `kind` in the interface language."""
    from cobro_tui.i18n import catalog, t  # the catalogs load on first use, not at import

    key = f"config_error.{kind}"
    return t(key if key in catalog("es") else "config_error.invalid", **values)


def toml_problem(exc: tomllib.TOMLDecodeError) -> str:
    """A TOML syntax error in words: what tomllib says (English: its own text) and where."""
    found = _TOML_AT.fullmatch(str(exc))
    if found is None:
        return message("toml_invalid_end", error=str(exc))
    if found["line"] is None:
        return message("toml_invalid_end", error=found["error"])
    return message("toml_invalid", error=found["error"], line=found["line"], column=found["column"])


def shown(value: Any) -> str:
    """A value as the person wrote it in the file, cut short when long."""
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= 60 else f"{text[:59]}…"


def explain(error: ErrorDetails, model: type[BaseModel]) -> str:
    """What is wrong and what is expected, for one error of validating `model`."""
    loc = tuple(error["loc"])
    kind = _SAME.get(error["type"], error["type"])
    values: dict[str, Any] = {**error.get("ctx", {}), "input": shown(error.get("input"))}
    node, metadata = _annotation_at(model, loc)
    if kind == "missing":
        values["expected"] = _expected(node, metadata)
    elif kind == "extra_forbidden":
        parent, _ = _annotation_at(model, loc[:-1])
        values["known"] = ", ".join(parent.model_fields) if _is_model(parent) else ""
    elif kind == "one_of" and "known" not in values:
        values["known"] = ", ".join(map(str, _choices(node, metadata)))
    elif kind in ("greater_than_equal", "less_than_equal"):
        low = next((m.ge for m in metadata if isinstance(m, annotated_types.Ge)), None)
        high = next((m.le for m in metadata if isinstance(m, annotated_types.Le)), None)
        if low is not None and high is not None:  # both ends known: say the range, not one end
            kind = "range"
            values.update(ge=low, le=high)
    return message(kind, **values)


def problems(exc: ValidationError, model: type[BaseModel], file: str | Path) -> list[str]:
    """Every error of one file's validation, each as 'file: key.path: what is expected'."""
    return [f"{at(file, error['loc'])}: {explain(error, model)}" for error in exc.errors()]


def _is_model(node: Any) -> bool:
    return isinstance(node, type) and issubclass(node, BaseModel)


def _unwrapped(node: Any) -> tuple[Any, list[Any]]:
    """The type inside Annotated[...] and X | None, with the constraints met on the way."""
    metadata: list[Any] = []
    while True:
        if get_origin(node) is Annotated:
            node, *extra = get_args(node)
            for item in extra:
                metadata += item.metadata if isinstance(item, FieldInfo) else [item]
            continue
        if get_origin(node) in (Union, types.UnionType):
            members = [arg for arg in get_args(node) if arg is not type(None)]
            if len(members) == 1:
                node = members[0]
                continue
        return node, metadata


def _annotation_at(model: type[BaseModel], loc: Sequence[str | int]) -> tuple[Any, list[Any]]:
    """The type at `loc` inside `model` and its constraints; (None, []) when loc leaves the model."""
    node: Any = model
    metadata: list[Any] = []
    for part in loc:
        node, _ = _unwrapped(node)
        if _is_model(node):
            field = node.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None, []
            node, metadata = field.annotation, list(field.metadata)
            continue
        origin, args = get_origin(node), get_args(node)
        if origin in (list, tuple, set, frozenset) and args:
            node = args[0]
        elif origin is dict and args:
            node = args[0] if part == "[key]" else args[1]
        else:
            return None, []
        metadata = []
    node, more = _unwrapped(node)
    return node, metadata + more


def _choices(node: Any, metadata: list[Any]) -> tuple[Any, ...]:
    found = [m.choices for m in metadata if isinstance(m, OneOf)]
    return found[0] if found else get_args(node) if get_origin(node) is Literal else ()


def _expected(node: Any, metadata: list[Any]) -> str:
    """What a missing key takes, in words: a whole number, text, one of a, b, a table, ..."""
    from cobro_tui.i18n import t

    choices = _choices(node, metadata)
    if choices:
        return t("config_kind.one_of", known=", ".join(map(str, choices)))
    origin = get_origin(node) or node
    if node in _KINDS:
        kind = _KINDS[node]
    elif origin in (list, tuple, set, frozenset):
        kind = "list"
    elif origin is dict or _is_model(node):
        kind = "table"
    else:
        kind = "value"
    return t(f"config_kind.{kind}")
