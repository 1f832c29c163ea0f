"""A validator for the subset of JSON Schema the contract generates (runtime/sailfin_runtime/schema/).

No dependency: the runtime installs none beyond torch and numpy. A keyword it does not know
fails loudly, so a schema that starts using one cannot pass unchecked.
"""

from __future__ import annotations

from typing import Any, Dict, List

from sailfin_runtime.spec import schema

# Annotations: they say nothing about validity.
_ANNOTATIONS = {"$schema", "description", "default", "x-defaultByScale", "x-parameterScales", "x-trainModes"}
_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer(),
}


def errors(node: Dict[str, Any], value: Any, where: str = "$") -> List[str]:
    """Every way ``value`` breaks ``node``, as ``path: problem`` lines (empty when valid)."""
    out: List[str] = []
    for keyword, arg in node.items():
        if keyword in _ANNOTATIONS:
            continue
        if keyword == "type":
            kinds = arg if isinstance(arg, list) else [arg]
            if not any(_TYPES[k](value) for k in kinds):
                return [f"{where}: {value!r} is not of type {arg}"]
        elif keyword == "const":
            if value != arg or isinstance(value, bool) != isinstance(arg, bool):
                out.append(f"{where}: {value!r} is not {arg!r}")
        elif keyword == "enum":
            if value not in arg:
                out.append(f"{where}: {value!r} is not one of {arg}")
        elif keyword in ("minimum", "maximum", "exclusiveMinimum"):
            if not _TYPES["number"](value):
                continue
            bad = value < arg if keyword == "minimum" else value > arg if keyword == "maximum" else value <= arg
            if bad:
                out.append(f"{where}: {value!r} breaks {keyword} {arg}")
        elif keyword == "minLength":
            if isinstance(value, str) and len(value) < arg:
                out.append(f"{where}: shorter than {arg}")
        elif keyword == "minItems":
            if isinstance(value, list) and len(value) < arg:
                out.append(f"{where}: fewer than {arg} items")
        elif keyword == "items":
            if isinstance(value, list):
                for i, item in enumerate(value):
                    out += errors(arg, item, f"{where}[{i}]")
        elif keyword == "properties":
            if isinstance(value, dict):
                for key, sub in arg.items():
                    if key in value:
                        out += errors(sub, value[key], f"{where}.{key}")
        elif keyword == "required":
            if isinstance(value, dict):
                out += [f"{where}: {key} is required" for key in arg if key not in value]
        elif keyword == "additionalProperties":
            if arg is not False:
                raise ValueError(f"{where}: additionalProperties {arg!r} is not supported")
            if isinstance(value, dict):
                out += [f"{where}: {key} is not allowed" for key in value if key not in node.get("properties", {})]
        elif keyword in ("anyOf", "oneOf"):
            matches = [branch for branch in arg if not errors(branch, value, where)]
            if not matches or (keyword == "oneOf" and len(matches) > 1):
                out.append(f"{where}: matches {len(matches)} of the {keyword} branches")
        else:
            raise ValueError(f"{where}: unsupported JSON Schema keyword {keyword!r}")
    return out


def event_errors(event: Dict[str, Any]) -> List[str]:
    """What is wrong with one runtime event (schema/events.json), naming the variant it claims to be."""
    variants = schema("events")["oneOf"]
    mine = [v for v in variants if v["properties"]["event"].get("const") == event.get("event")]
    if not mine:
        return [f"$.event: unknown event {event.get('event')!r}"]
    return errors(mine[0], event)


def check_event(event: Dict[str, Any]) -> None:
    problems = event_errors(event)
    assert not problems, f"event breaks schema/events.json: {problems}: {event}"
