"""Config loading: YAML + `--set a.b=VALUE` overrides, validated before anything runs.

Errors are turned into one line per problem naming the dotted key and what is allowed, because a
pipeline that fails after an hour on a typo is the worst kind of failure.
"""

from __future__ import annotations

import typing
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo


class ConfigError(ValueError):
    """A config problem, already phrased for the user (one line per problem)."""


class StrictModel(BaseModel):
    """Base for every config model: unknown keys are errors, defaults are validated."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


def _stage_ref(kind: str, extra: tuple[str, ...] = ()):
    """A field naming another stage: checked against the registry's stages of that kind, which the
    pipeline config passes as validation context (a stage config validated alone accepts any name)."""

    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get(kind)
        if known is not None and value not in (*extra, *known):
            raise ValueError(f"unknown {kind.replace('_', ' ')[:-1]} {value!r}; allowed: {', '.join((*extra, *known))}")
        return value

    return AfterValidator(check)


StageRef = Annotated[str, _stage_ref("stages")]
ModelStageRef = Annotated[str, _stage_ref("model_stages")]
ModelStageOrAuto = Annotated[str, _stage_ref("model_stages", ("auto",))]


def _allowed_keys(model: type[BaseModel] | None, path: tuple) -> list[str] | None:
    """Walk `path` through nested models to list the keys allowed at its parent."""
    for part in path[:-1]:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _model_in(field.annotation)
    return sorted(model.model_fields) if model is not None else None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def format_validation_error(err: ValidationError, model: type[BaseModel]) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and p in _UNION_TAGS))
        key = ".".join(str(p) for p in loc) or "<root>"
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = f"; allowed: {', '.join(allowed)}" if allowed else ""
            lines.append(f"config error: {key}: unknown key{hint}")
        else:
            got = e.get("input")
            got_s = "" if isinstance(got, (dict, list)) else f" (got {got!r})"
            lines.append(f"config error: {key}: {e['msg']}{got_s}")
    return "\n".join(dict.fromkeys(lines))


# pydantic puts the discriminator value into error locations of tagged unions; hide it.
_UNION_TAGS = {"synthetic", "text", "jsonl", "parquet", "html", "warc", "hf", "url"}


def parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"config error: --set {item!r}: expected KEY=VALUE, e.g. dedup.threshold=0.8")
    key, value = item.split("=", 1)
    key = key.strip()
    if not key or any(not p for p in key.split(".")):
        raise ConfigError(f"config error: --set {item!r}: empty key part")
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"config error: {key}: value {value!r} is not valid YAML ({exc.problem})") from None
    return key.split("."), parsed


def apply_overrides(raw: dict, overrides: list[str], model: type[BaseModel]) -> dict:
    for item in overrides:
        path, value = parse_override(item)
        node, node_model = raw, model
        for i, part in enumerate(path):
            fields = node_model.model_fields if node_model is not None else None
            if fields is not None and part not in fields:
                dotted = ".".join(path[: i + 1])
                raise ConfigError(f"config error: {dotted}: unknown key; allowed: {', '.join(sorted(fields))}")
            if i == len(path) - 1:
                node[part] = value
                break
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
            node_model = _model_in(fields[part].annotation) if fields is not None else None
    return raw


def load_config(model: type[BaseModel], path: str | Path | None = None, overrides: list[str] | None = None):
    raw: dict = {}
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config error: file {p} does not exist")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config error: {p} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config error: {p} must hold a mapping of stage names to settings")
    raw = apply_overrides(raw, overrides or [], model)
    try:
        return model.model_validate(raw)  # a pipeline config adds its registry as context itself
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, model)) from None
