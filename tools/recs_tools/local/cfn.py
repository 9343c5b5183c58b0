"""Read template.yaml and resolve the CloudFormation intrinsics the local stack needs.

The loader turns short-form tags (`!Ref`, `!Sub`, ...) into their long form. The resolver
evaluates intrinsics against local parameter values, conditions, and the physical names and
attributes of the resources the local stack created. Unsupported intrinsics raise, so the
local stack never silently diverges from the template.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_NO_VALUE = object()


# libyaml's parser when PyYAML was built with it (the wheels are): it parses the template about
# ten times faster, and every local stack reads it. The constructors stay Python either way.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    # !Ref and !Condition are the two short forms whose long form has no "Fn::" prefix.
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


#: Parsed templates by (path, modification time, size): every local stack reads template.yaml.
_PARSED: dict[tuple[Path, int, int], dict[str, Any]] = {}


def load_template(path: Path) -> dict[str, Any]:
    """The template as a fresh dict (the caller may change it), parsed once per file version."""
    stat = path.stat()
    key = (path.resolve(), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        with path.open(encoding="utf-8") as handle:
            loaded = yaml.load(handle, Loader=_TemplateLoader)
        if not isinstance(loaded, dict) or "Resources" not in loaded:
            raise ValueError(f"{path} is not a CloudFormation template")
        _PARSED[key] = loaded
    return copy.deepcopy(_PARSED[key])


class UnsupportedIntrinsicError(ValueError):
    pass


@dataclass
class Resolver:
    """Evaluates intrinsics with local values.

    `refs` maps a logical id to what `Ref` returns (parameter values included); `attributes`
    maps (logical id, attribute) to what `GetAtt` returns.
    """

    region: str
    account_id: str
    stack_name: str
    parameters: dict[str, Any]
    conditions: dict[str, bool] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)

    def pseudo(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.refs:
            return self.refs[name]
        raise UnsupportedIntrinsicError(f"Ref to unknown or not-yet-created '{name}'")

    def evaluate_conditions(self, conditions: Mapping[str, Any]) -> None:
        pending = dict(conditions)
        # Conditions may refer to each other; resolve until a fixed point.
        for _ in range(len(pending) + 1):
            for name, expression in list(pending.items()):
                try:
                    self.conditions[name] = bool(self.resolve(expression))
                    del pending[name]
                except UnsupportedIntrinsicError:
                    continue
        if pending:
            raise UnsupportedIntrinsicError(f"cannot evaluate conditions {sorted(pending)}")

    def resolve(self, value: Any) -> Any:
        resolved = self._resolve(value)
        return None if resolved is _NO_VALUE else resolved

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v) for v in value]
            return [v for v in items if v is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg)
            if key.startswith("Fn::"):
                raise UnsupportedIntrinsicError(f"intrinsic {key} is not supported by the local stack")
        out = {}
        for key, item in value.items():
            resolved = self._resolve(item)
            if resolved is not _NO_VALUE:
                out[key] = resolved
        return out

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            template, variables = arg[0], {k: self._resolve(v) for k, v in arg[1].items()}
        else:
            template, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self._get_att([logical, attribute]))
            return str(self.pseudo(name))

        return re.sub(r"\$\{([^}]+)\}", replace, template)

    def _get_att(self, arg: Any) -> Any:
        logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        key = (logical, attribute)
        if key not in self.attributes:
            raise UnsupportedIntrinsicError(f"GetAtt {logical}.{attribute} is not available locally")
        return self.attributes[key]

    def _if(self, arg: list[Any]) -> Any:
        name, when_true, when_false = arg
        if name not in self.conditions:
            raise UnsupportedIntrinsicError(f"unknown condition {name}")
        return self._resolve(when_true if self.conditions[name] else when_false)

    def _equals(self, arg: list[Any]) -> bool:
        left, right = (self._resolve(v) for v in arg)
        return bool(str(left) == str(right))

    def _not(self, arg: list[Any]) -> bool:
        return not self._resolve(arg[0])

    def _and(self, arg: list[Any]) -> bool:
        return all(self._resolve(v) for v in arg)

    def _or(self, arg: list[Any]) -> bool:
        return any(self._resolve(v) for v in arg)

    def _find_in_map(self, arg: list[Any]) -> Any:
        name, top, second = (self._resolve(v) for v in arg)
        try:
            return self.mappings[name][top][second]
        except KeyError as missing:
            raise UnsupportedIntrinsicError(f"FindInMap {name}.{top}.{second}: no such entry") from missing

    def _join(self, arg: list[Any]) -> str:
        separator, values = arg
        resolved = self._resolve(values)
        if isinstance(resolved, str):
            resolved = [resolved]
        return str(separator).join(str(v) for v in resolved)

    def _condition(self, arg: str) -> bool:
        return self.conditions[arg]


_INTRINSICS: dict[str, Any] = {
    "Ref": lambda self, arg: self.pseudo(arg),
    "Fn::Sub": Resolver._sub,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::If": Resolver._if,
    "Fn::Equals": Resolver._equals,
    "Fn::Not": Resolver._not,
    "Fn::And": Resolver._and,
    "Fn::Or": Resolver._or,
    "Fn::Join": Resolver._join,
    "Fn::FindInMap": Resolver._find_in_map,
    "Condition": Resolver._condition,
}


def parameter_defaults(
    template: Mapping[str, Any], overrides: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Parameter values: the template's defaults, with overrides; CommaDelimitedList as lists."""
    values: dict[str, Any] = {}
    for name, spec in template.get("Parameters", {}).items():
        raw = (overrides or {}).get(name, spec.get("Default"))
        if raw is None:
            raise ValueError(f"parameter {name} has no default and no local value")
        if spec.get("Type") == "CommaDelimitedList":
            values[name] = [part for part in str(raw).split(",") if part] if raw != "" else [""]
        else:
            values[name] = str(raw)
    return values
