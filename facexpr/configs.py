"""JSON round-trip for the frozen config dataclasses that are saved next to model weights."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any, TypeVar

from facexpr.atomic import write_json
from facexpr.errors import InvalidInputError

C = TypeVar("C", bound="JsonConfig")


class JsonConfig:
    """Mixin for frozen dataclasses: ``to_json``, ``save``, ``from_json``, ``load`` and ``replace``."""

    def to_json(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]

    def save(self, path: str | Path) -> None:
        """Write as indented JSON (atomically)."""
        write_json(path, self.to_json())

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    def check_ranges(
        self, fractions: tuple[str, ...] = (), positive: tuple[str, ...] = (), non_negative: tuple[str, ...] = ()
    ) -> None:
        """Raise ``InvalidInputError`` naming the first field that is not a fraction in [0, 1], not > 0, or < 0."""
        rules = (
            (fractions, lambda v: 0.0 <= v <= 1.0, "lie in [0, 1]"),
            (positive, lambda v: v > 0, "be > 0"),
            (non_negative, lambda v: v >= 0, "be >= 0"),
        )
        for names, valid, wording in rules:
            for name in names:
                value = getattr(self, name)
                if not valid(value):
                    raise InvalidInputError(f"{type(self).__name__}.{name} must {wording}, not {value!r}")

    @classmethod
    def from_json(cls: type[C], data: dict[str, Any]) -> C:
        """Rebuild from ``to_json`` output (lists, nested too, become tuples); unknown keys are an error."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown {cls.__name__} key(s): {sorted(unknown)}")
        return cls(**{k: _tuples(v) for k, v in data.items()})

    @classmethod
    def load(cls: type[C], path: str | Path) -> C:
        """Read a saved config."""
        return cls.from_json(json.loads(Path(path).read_text()))


def _tuples(value: Any) -> Any:
    """``value`` with every list, nested ones too, turned into a tuple."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def check_network_shape(config: str, stage_filters: tuple[int, ...], blocks_per_stage: tuple[int, ...]) -> None:
    """Raise ``InvalidInputError`` unless ``stage_filters`` gives each residual stage of ``config`` a positive width
    and ``blocks_per_stage`` each of them at least one block."""
    if min(stage_filters, default=0) < 1:
        raise InvalidInputError(
            f"{config}.stage_filters must give one or more stages a positive width, not {stage_filters!r}"
        )
    if len(blocks_per_stage) != len(stage_filters) or min(blocks_per_stage) < 1:
        raise InvalidInputError(
            f"{config}.blocks_per_stage must give each of the {len(stage_filters)} stages at least one block, "
            f"not {blocks_per_stage!r}"
        )
