"""The edit round trip with ``mlp`` (issue #10): ``edit --au AUxx=+2 --transform mlp`` then ``extract``, through
the console script, on three shared portraits; and why the issue's target cannot be met with the geometric
AU analysis (MODEL_CARD_lt_mlp.md, "Edit round trip")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from facegan_video.evaluation.edits import DRIFT, MOVE, TOLERANCE, RoundTrip, round_trip

#: The portraits of the issue's measure: lia_taylor.png, a man and a woman of other origins; persons outside
#: the training split, every AU at most 3 so that +2 stays within the 0-5 range.
PORTRAITS = ("lia_taylor.png", "lia_macron.png", "aniportrait_aragaki.png")
#: The issue's target: this many of the 17 AUs pass on each portrait.
TARGET = 14
#: What the shipped weights measured (MODEL_CARD_lt_mlp.md): passes per portrait, in PORTRAITS order.
MEASURED = (0, 0, 1)


@pytest.fixture(scope="module")
def trips(shared_clips: Path, tmp_path_factory: pytest.TempPathFactory) -> list[RoundTrip]:
    portraits = shared_clips.parent / "portraits"
    work = tmp_path_factory.mktemp("round_trip")
    return [round_trip(portraits / name, "mlp", work / name) for name in PORTRAITS]


def test_pass_rule_by_hand() -> None:
    moved = np.zeros((17, 17))
    np.fill_diagonal(moved, MOVE)
    moved[0, 0] = MOVE * (1 - TOLERANCE) - 0.01  # AU01 moves too little
    moved[1, 5] = DRIFT + 0.01  # AU02 moves AU07 too
    trip = RoundTrip("p.png", "mlp", moved, np.zeros(17))
    assert trip.passed.tolist() == [False, False] + [True] * 15
    assert trip.as_asked.tolist() == [False] + [True] * 16
    assert trip.drift[1] == pytest.approx(DRIFT + 0.01)


def test_the_analysis_reads_17_aus_from_12_measures() -> None:
    """The geometric AU backend's 17 features are linear in the frontal landmarks with rank 12, so five AU
    combinations never change (e.g. AU07 and AU45 are one measure): those AUs cannot move alone, whatever
    landmarks a transformer produces."""
    from facegan_video_training.teacher import feature_jacobian

    assert np.linalg.matrix_rank(feature_jacobian().reshape(17, -1), tol=1e-6) == 12


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="the issue's 14 of 17 is out of reach: the analysis cannot move 5 of the 17 "
                   "AUs alone, and re-reading the warped image loses up to half of each move "
                   "(MODEL_CARD_lt_mlp.md, 'Edit round trip')")
def test_round_trip_meets_the_issue_target(trips: list[RoundTrip]) -> None:
    assert all(t.passed.sum() >= TARGET for t in trips), [int(t.passed.sum()) for t in trips]


@pytest.mark.slow
def test_round_trip_keeps_what_was_measured(trips: list[RoundTrip]) -> None:
    """No regression from the model card's table: as many passes, and every edit raises its own AU."""
    passes = [int(t.passed.sum()) for t in trips]
    assert all(p >= m for p, m in zip(passes, MEASURED)), passes
    for t in trips:
        assert (t.own > 0).sum() >= 15, (t.portrait, t.own.round(2).tolist())


@pytest.mark.slow
def test_an_unedited_render_reads_as_the_portrait(trips: list[RoundTrip]) -> None:
    """Rendering the portrait's own motion and re-reading it moves no AU by more than the drift allowed: the
    round trip's misses are the edits', not the renderer's or the analysis's noise."""
    for t in trips:
        assert np.abs(t.floor).max() <= DRIFT, (t.portrait, t.floor.round(2).tolist())
