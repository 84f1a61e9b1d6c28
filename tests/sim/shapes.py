"""Compare a body the simulator served with the official API reference sample.

"Same shape" means: the same keys at every level, and the same JSON type wherever
both sides carry a value (null on either side matches anything, since samples show
null where a real cloud may have a value and vice versa). Free-form mappings, whose
keys are data (server `addresses`, agent `configurations`, ...), are named in
`free_form` by key and only their type is compared.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SAMPLES = Path(__file__).resolve().parents[1] / "api_samples"


def load_sample(relative: str) -> Any:
    """A sample kept in tests/api_samples (see its README for where each comes from)."""
    return json.loads((SAMPLES / relative).read_text())


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "null"


def shape_differences(
    served: Any, sample: Any, free_form: tuple[str, ...] = (), path: str = "$"
) -> list[str]:
    """Every place where `served` differs in shape from `sample` (empty when alike)."""
    if served is None or sample is None:
        return []
    if _kind(served) != _kind(sample):
        return [f"{path}: served {_kind(served)}, sample has {_kind(sample)}"]
    problems: list[str] = []
    if isinstance(sample, dict):
        if path.rsplit(".", 1)[-1] in free_form:
            return []
        missing = sorted(set(sample) - set(served))
        extra = sorted(set(served) - set(sample))
        if missing:
            problems.append(f"{path}: missing keys {missing}")
        if extra:
            problems.append(f"{path}: extra keys {extra}")
        for key in set(sample) & set(served):
            problems += shape_differences(served[key], sample[key], free_form, f"{path}.{key}")
    elif isinstance(sample, list) and sample and served:
        problems += shape_differences(served[0], sample[0], free_form, f"{path}[]")
    return problems


def assert_same_shape(served: Any, sample: Any, free_form: tuple[str, ...] = ()) -> None:
    problems = shape_differences(served, sample, free_form)
    assert not problems, "shape differs from the API reference sample:\n" + "\n".join(problems)
