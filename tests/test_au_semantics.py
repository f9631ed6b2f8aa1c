"""AUs mean what FACS says: acted emotions of three MEAD actors against each actor's neutral clip."""

from __future__ import annotations

import numpy as np
import pytest

from facegan_video.analysis.pipeline import FaceAnalyzer
from facegan_video.config import AnalysisConfig
from facegan_video.types import AU_NAMES
from facegan_video.video import open_video

ACTORS = ("M030", "W009", "W011")
EMOTIONS = ("angry", "contempt", "disgusted", "fear", "happy", "neutral", "sad", "surprised")
#: Prototype AUs per emotion (EMFACS); "A|B" passes when either rises.
PROTOTYPES = {
    "happy": ["AU12", "AU06"],
    "surprised": ["AU01", "AU02", "AU25|AU26"],
    "angry": ["AU04"],
    "disgusted": ["AU09|AU10"],
    "sad": ["AU15|AU01"],
}
MARGIN = 0.3


def mean_aus(path) -> dict[str, float]:
    analyzer = FaceAnalyzer(AnalysisConfig(faces="largest"))
    with open_video(path) as src:
        aus = np.array([r.analysis.aus for _, recs in analyzer.run(src) for r in recs if r.analysis is not None])
    assert len(aus) > 0.9 * src.info.frame_count
    return dict(zip(AU_NAMES, aus.mean(0)))


@pytest.fixture(scope="module")
def mead(shared_clips):
    return {(a, e): mean_aus(shared_clips / f"dt_mead_{a}_{e}_level{1 if e == 'neutral' else 3}.mp4")
            for a in ACTORS for e in EMOTIONS}


def test_prototype_aus_rise_above_neutral(mead):
    results = []
    for actor in ACTORS:
        neutral = mead[(actor, "neutral")]
        for emotion, checks in PROTOTYPES.items():
            for check in checks:
                rise = max(mead[(actor, emotion)][au] - neutral[au] for au in check.split("|"))
                results.append((actor, emotion, check, round(float(rise), 2), rise > MARGIN))
    passed = sum(r[-1] for r in results)
    assert len(results) == 24
    assert passed >= 20, "\n".join(map(str, results))


def test_happy_smiles_more_than_any_other_emotion(mead):
    """AU12 is highest in the happy clip for every actor, a stricter reading of the same data."""
    for actor in ACTORS:
        au12 = {e: mead[(actor, e)]["AU12"] for e in EMOTIONS}
        assert max(au12, key=au12.get) == "happy", au12
