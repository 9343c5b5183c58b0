"""Grid search on validation whose best point must be interior: an axis whose best value is on
the grid's edge is extended past it (halved below, doubled above, within the axis's bounds) and
the new points are tried, until the best is inside every extendable axis or the rounds run out.

A best value on an edge says only that the grid was too narrow; a value at the axis's own bound
(0 shrinkage, a weight of 1) is a real answer and is reported as such.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: How many times the edges may be pushed out (each push doubles or halves the edge value).
MAX_ROUNDS = 8


@dataclass(frozen=True)
class Axis:
    """One tuned parameter: its starting values and, for numbers, the bounds it may not pass.

    ``values`` of a numeric axis are ascending; a categorical axis (``numeric=False``) is never
    extended.
    """

    name: str
    values: tuple[Any, ...]
    lower: float | None = None
    upper: float | None = None
    integer: bool = False
    numeric: bool = True

    def _clip(self, value: float) -> float:
        if self.lower is not None:
            value = max(value, self.lower)
        if self.upper is not None:
            value = min(value, self.upper)
        return float(round(value)) if self.integer else value

    def beyond(self, values: Sequence[Any], low_edge: bool) -> Any | None:
        """The next value past the lowest (``low_edge``) or highest of ``values``, or None at a bound."""
        if not self.numeric:
            return None
        edge = float(values[0] if low_edge else values[-1])
        if low_edge:
            candidate = self._clip(edge / 2.0) if edge > 0 else edge
        else:
            candidate = self._clip(edge * 2.0 if edge > 0 else 1.0)
        if candidate == edge or candidate in values:
            return None
        return int(candidate) if self.integer else candidate


@dataclass(frozen=True)
class Trial:
    params: dict[str, Any]
    score: tuple[float, ...]


@dataclass(frozen=True)
class GridResult:
    best: dict[str, Any]
    trials: list[Trial]
    axes: dict[str, list[Any]]
    placement: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "best": self.best,
            "axes": self.axes,
            "placement": self.placement,
            "trials": [{"params": t.params, "validation": list(t.score)} for t in self.trials],
        }


def grid_search(
    axes: Sequence[Axis],
    evaluate: Callable[[dict[str, Any]], tuple[float, ...]],
    max_rounds: int = MAX_ROUNDS,
) -> GridResult:
    """The point of the grid with the highest ``evaluate`` (compared as tuples), edges extended.

    ``placement`` says per axis where the best value ended: ``interior``, ``at bound`` (it cannot
    move further), ``edge`` (rounds exhausted) or ``categorical``.
    """
    values = {axis.name: list(axis.values) for axis in axes}
    scores: dict[tuple[Any, ...], tuple[float, ...]] = {}
    order: list[dict[str, Any]] = []
    best: dict[str, Any] = {}
    for round_ in range(max_rounds + 1):
        for point in itertools.product(*(values[a.name] for a in axes)):
            if point not in scores:
                params = dict(zip(values, point, strict=True))
                scores[point] = evaluate(params)
                order.append(params)
        best = max(order, key=lambda p: scores[tuple(p.values())])
        if round_ == max_rounds or not _extend(axes, values, best):
            break
    trials = [Trial(p, scores[tuple(p.values())]) for p in order]
    return GridResult(
        best, trials, values, {a.name: _placement(a, values[a.name], best[a.name]) for a in axes}
    )


def _extend(axes: Sequence[Axis], values: dict[str, list[Any]], best: dict[str, Any]) -> bool:
    """Push out every axis whose best value is on its edge; whether any axis moved."""
    moved = False
    for axis in axes:
        current = values[axis.name]
        if not axis.numeric or len(current) < 2:
            continue
        for low_edge, edge in ((True, current[0]), (False, current[-1])):
            if best[axis.name] == edge and (new := axis.beyond(current, low_edge)) is not None:
                current.insert(0 if low_edge else len(current), new)
                moved = True
    return moved


def _placement(axis: Axis, values: list[Any], chosen: Any) -> str:
    if not axis.numeric:
        return "categorical"
    if values[0] < chosen < values[-1] or len(values) == 1:
        return "interior"
    return "at bound" if axis.beyond(values, chosen == values[0]) is None else "edge"
