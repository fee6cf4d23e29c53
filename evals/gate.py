"""The CI gate: each mode's metrics against the split's minimums (thresholds.toml) and the baseline."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bot.errors import PlanBotError
from evals.metrics import HIGHER_IS_BETTER, LOWER_IS_BETTER

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.toml")
BASELINE_FILE = Path(__file__).with_name("baseline.json")
DEFAULT_MAX_DROP = 0.02
# Tiny slack so that a metric exactly at its limit passes despite float rounding.
_EPSILON = 1e-9

Baseline = dict[str, dict[str, dict[str, float | None]]]


class GateConfigError(PlanBotError):
    """thresholds.toml or baseline.json is missing or malformed."""


@dataclass(frozen=True)
class GateConfig:
    """Per-split minimums and how far below the baseline a metric may fall."""

    minimums: dict[str, dict[str, float]] = field(default_factory=dict)
    max_drop: float = DEFAULT_MAX_DROP
    #: Where the project wants to be (the issue's starting thresholds); missing them is reported, not failed.
    targets: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class GateFailure:
    """One metric of one mode that failed the gate."""

    mode: str
    metric: str
    value: float | None
    limit: float
    rule: Literal["threshold", "baseline"]
    lower_is_better: bool = False

    def describe(self) -> str:
        """A line for the CI log: which metric, its value, the limit and by how much it missed."""
        if self.value is None:
            return f"[{self.mode}] {self.metric}: not measured (no rows); {self.rule} needs {self.limit:.3f}"
        missed = self.value - self.limit if self.lower_is_better else self.limit - self.value
        relation = "above the maximum" if self.lower_is_better else "below the minimum"
        source = "threshold" if self.rule == "threshold" else "baseline − allowed drop"
        return (f"[{self.mode}] {self.metric} = {self.value:.3f}, {relation} {self.limit:.3f} "
                f"({source}) by {missed:.3f}")


def load_config(path: Path = THRESHOLDS_FILE) -> GateConfig:
    """Read thresholds.toml: `max_drop` plus one table of minimums per split."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GateConfigError(f"{path}: cannot read thresholds ({exc})") from exc
    max_drop = data.pop("max_drop", DEFAULT_MAX_DROP)
    data.pop("documents", None)  # the documents eval's own gate (evals/documents.py), not a split
    targets = _tables(path, data.pop("targets", {}))
    return GateConfig(_tables(path, data), float(_number(path, max_drop)), targets)


def _number(path: Path, value: Any) -> float:
    if not isinstance(value, int | float):
        raise GateConfigError(f"{path}: max_drop must be a number")
    return float(value)


def _tables(path: Path, data: dict[str, Any]) -> dict[str, dict[str, float]]:
    minimums: dict[str, dict[str, float]] = {}
    for split, table in data.items():
        if not isinstance(table, dict) or not all(isinstance(v, int | float) for v in table.values()):
            raise GateConfigError(f"{path}: [{split}] must map metric names to numbers")
        unknown = set(table) - set(HIGHER_IS_BETTER) - set(LOWER_IS_BETTER)
        if unknown:
            raise GateConfigError(f"{path}: [{split}] unknown metric(s): {', '.join(sorted(unknown))}")
        minimums[split] = {k: float(v) for k, v in table.items()}
    return minimums


def below_target(metrics_by_mode: Mapping[str, Mapping[str, Any]], split: str, config: GateConfig) -> list[str]:
    """Lines for every metric short of the project's target (reported loudly, not failed)."""
    lines = []
    for mode, metrics in metrics_by_mode.items():
        for metric, target in config.targets.get(split, {}).items():
            value = metrics.get(metric)
            lower = metric in LOWER_IS_BETTER
            if value is None or (value > target + _EPSILON if lower else value < target - _EPSILON):
                shown = "not measured" if value is None else f"{value:.3f}"
                lines.append(f"[{mode}] {metric} = {shown}, target {'≤' if lower else '≥'} {target:.3f}")
    return lines


def load_baseline(path: Path = BASELINE_FILE) -> Baseline:
    """Read baseline.json: split → mode → metric → value. A missing file is an empty baseline."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise GateConfigError(f"{path}: cannot read baseline ({exc})") from exc
    if not isinstance(data, dict):
        raise GateConfigError(f"{path}: baseline must be a JSON object")
    return data


def baseline_entry(metrics: Mapping[str, Any]) -> dict[str, float | None]:
    """The gated metrics of one mode, rounded, as stored in baseline.json."""
    entry: dict[str, float | None] = {"n": metrics.get("n")}
    for name in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        value = metrics.get(name)
        entry[name] = None if value is None else round(float(value), 4)
    return entry


def write_baseline(path: Path, split: str, metrics_by_mode: Mapping[str, Mapping[str, Any]]) -> None:
    """Replace the baseline of one split (other splits are kept)."""
    baseline = load_baseline(path)
    baseline[split] = {mode: baseline_entry(m) for mode, m in metrics_by_mode.items()}
    text = json.dumps(baseline, ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")


def check(metrics_by_mode: Mapping[str, Mapping[str, Any]], split: str, config: GateConfig,
          baseline: Baseline) -> list[GateFailure]:
    """Every failure: metrics under the split's minimums, or worse than the baseline by more than max_drop."""
    failures: list[GateFailure] = []
    for mode, metrics in metrics_by_mode.items():
        for metric, minimum in config.minimums.get(split, {}).items():
            value = metrics.get(metric)
            if metric in LOWER_IS_BETTER:
                if value is None or value > minimum + _EPSILON:
                    failures.append(GateFailure(mode, metric, value, minimum, "threshold", True))
            elif value is None or value < minimum - _EPSILON:
                failures.append(GateFailure(mode, metric, value, minimum, "threshold"))
        failures += _against_baseline(mode, metrics, baseline.get(split, {}).get(mode, {}), config.max_drop)
    return failures


def _against_baseline(mode: str, metrics: Mapping[str, Any], base: Mapping[str, float | None],
                      max_drop: float) -> list[GateFailure]:
    failures = []
    for metric in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        reference = base.get(metric)
        if reference is None:
            continue
        value = metrics.get(metric)
        lower = metric in LOWER_IS_BETTER
        limit = reference + max_drop if lower else reference - max_drop
        worse = value is None or (value > limit + _EPSILON if lower else value < limit - _EPSILON)
        if worse:
            failures.append(GateFailure(mode, metric, value, limit, "baseline", lower))
    return failures
