"""Gate minimums only go up: evals/thresholds.toml may raise them, never lower them below this floor.

The floor is the honest test-split level measured after issue 12 (a cleaned eval, a blind batch, the learned
decision). Raising the floor here is how a better measured level is locked in.
"""

from __future__ import annotations

from evals.gate import load_config
from evals.metrics import LOWER_IS_BETTER

FLOOR = {
    "test": {"answer_accuracy": 0.83, "citation_precision": 0.81, "refusal_accuracy": 0.88,
             "false_refusal_rate": 0.03, "dead_end_rate": 0.14},
}


def test_minimums_never_fall_below_the_recorded_floor() -> None:
    minimums = load_config().minimums
    for split, floor in FLOOR.items():
        for metric, value in floor.items():
            current = minimums[split][metric]
            assert (current <= value if metric in LOWER_IS_BETTER else current >= value), (split, metric, current)


def test_the_rule_is_written_where_the_minimums_live() -> None:
    from evals.gate import THRESHOLDS_FILE

    assert "only go up" in THRESHOLDS_FILE.read_text(encoding="utf-8")
