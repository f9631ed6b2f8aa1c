"""Background mixer (stage ``mix``): put the reenacted face back into the source frame or onto another background.

FACEGAN's G_b learns a mask M and composes I_r = M * I_c + (1 - M) * I_b (eq. 9). Here M comes from
landmarks: the convex hull of the jaw and of a forehead estimated above the brows, feathered by a
Gaussian (or cut out for Poisson blending). The TARGET face's hull is joined with the SOURCE face's,
so where the face moved away from, the reenacted frame shows through instead of a ghost of the old
face. With another background (the paper's Fig. 6) the person's face and hair, found once per source
by GrabCut from a landmark prior, are composited onto it.

Masks are drawn on a reduced grid inside the face's rectangle only: a Gaussian-feathered mask is
smooth, so bilinear upsampling loses nothing visible, and the rest of the frame is a plain copy. The
colour correction is fitted on that grid too, as one affine RGB map, so at full resolution mixing
costs one ``cv2.transform`` and one ``cv2.blendLinear`` over the face's rectangle, in uint8.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from facegan_video.errors import ConfigError, NoFaceError
from facegan_video.hookspecs import hookimpl
from facegan_video.options import Option
from facegan_video.reenact import check_source, same_image
from facegan_video.types import Backend, Capabilities, Rect

MODES = ("feather", "poisson")
JAW = slice(0, 17)
BROWS = slice(17, 27)
CHIN, NOSE_TIP = 8, 30

#: Feather sigma in pixels of the reduced grid masks are drawn on (sets the grid's scale).
_GRID_SIGMA = 3.0
#: Margin around a mask, in sigmas: OpenCV's Gaussian kernel for float images reaches 4 sigma.
_PAD_SIGMAS = 4.0
#: How far face colours move towards another background's lighting (0 = not at all, 1 = fully).
_BACKGROUND_STRENGTH = 0.3
#: Bounds of the LAB std ratio, so a face with little texture cannot be stretched into noise.
_GAIN_RANGE = (0.5, 2.0)
#: Fewest grid pixels a face must cover for its colour statistics to be trusted.
_MIN_STAT_PIXELS = 16
#: Where the Poisson region ends: the feathered mask's level (its 0.5 level lies on the hull).
_POISSON_LEVEL = 0.1
#: Brow-to-chin height, in grid pixels, of the grid GrabCut runs on.
_HEAD_GRID = 96
#: Longest side, in pixels, a background is shrunk to before measuring its lighting.
_BACKGROUND_STATS_SIZE = 128

Stats = tuple[np.ndarray, np.ndarray]  # LAB mean and std, (3,) each


@dataclass(frozen=True)
class _Grid:
    """A rectangle of the frame and the reduced grid that masks are drawn on inside it."""

    rect: Rect
    size: tuple[int, int]  # (w, h) of the reduced grid

    @staticmethod
    def around(polygons: list[np.ndarray], pad: float, scale: float, shape: tuple[int, int]) -> _Grid | None:
        """The grid covering ``polygons`` plus ``pad`` pixels, clipped to the frame; None if nothing is inside."""
        pts = np.concatenate(polygons)
        x0, y0 = np.floor(pts.min(0) - pad).astype(int)
        x1, y1 = np.ceil(pts.max(0) + pad).astype(int) + 1
        rect = (max(int(x0), 0), max(int(y0), 0), min(int(x1), shape[1]), min(int(y1), shape[0]))
        if rect[2] <= rect[0] or rect[3] <= rect[1]:
            return None
        w, h = rect[2] - rect[0], rect[3] - rect[1]
        return _Grid(rect, (max(1, round(w * scale)), max(1, round(h * scale))))

    @property
    def slices(self) -> tuple[slice, slice]:
        x0, y0, x1, y1 = self.rect
        return slice(y0, y1), slice(x0, x1)

    @property
    def scale(self) -> np.ndarray:
        """Grid pixels per frame pixel along x and y."""
        return np.array(self.size, np.float64) / (self.rect[2] - self.rect[0], self.rect[3] - self.rect[1])

    def to_grid(self, points: np.ndarray) -> np.ndarray:
        """Frame coordinates -> grid coordinates, with cv2.resize's pixel-centre convention."""
        return (points - np.array(self.rect[:2]) + 0.5) * self.scale - 0.5

    def to_frame(self, points: np.ndarray) -> np.ndarray:
        return (points + 0.5) / self.scale - 0.5 + np.array(self.rect[:2])

    def fill(self, polygons: list[np.ndarray]) -> np.ndarray:
        """uint8 grid, 255 inside the convex hull of each polygon, anti-aliased at sub-pixel precision."""
        canvas = np.zeros(self.size[::-1], np.uint8)
        for polygon in polygons:
            fixed = np.round(self.to_grid(polygon) * 16).astype(np.int32)
            cv2.fillConvexPoly(canvas, cv2.convexHull(fixed), 255, cv2.LINE_AA, shift=4)
        return canvas

    def shrink(self, image: np.ndarray) -> np.ndarray:
        """uint8 grid of ``image``'s rectangle, each pixel the mean of the frame pixels its cell covers
        (``cv2.INTER_AREA``'s result), read off the integral image at the cells' corners: at a
        non-integer scale OpenCV's area filter takes twice as long (1.9 ms for a 2048x2048 portrait's face).
        """
        x0, y0, x1, y1 = self.rect
        exact = cv2.CV_32S if 255 * (x1 - x0) * (y1 - y0) < 2**31 else cv2.CV_64F  # sums that cannot overflow
        total = cv2.integral(image[self.slices], sdepth=exact)
        # the integral of a piecewise-constant image is bilinear between pixel corners: exact at any point
        for axis, (n, cells) in enumerate(((y1 - y0, self.size[1]), (x1 - x0, self.size[0]))):
            at = np.linspace(0, n, cells + 1)
            low = np.minimum(at.astype(int), n - 1)
            frac = (at - low).reshape((-1,) + (1,) * (total.ndim - axis - 1))
            total = np.take(total, low, axis) * (1 - frac) + np.take(total, low + 1, axis) * frac  # float64
        sums = total[1:, 1:] - total[:-1, 1:] - total[1:, :-1] + total[:-1, :-1]
        return np.clip(np.rint(sums * (self.size[0] * self.size[1] / ((x1 - x0) * (y1 - y0)))), 0, 255).astype(np.uint8)

    def upsample(self, grid_mask: np.ndarray) -> np.ndarray:
        x0, y0, x1, y1 = self.rect
        return cv2.resize(grid_mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)


@dataclass
class _SourceFace:
    """What the mixer keeps of one source frame: computed once, reused for every reenacted frame."""

    image: np.ndarray  # a copy of the source, to recognise it on the next call
    landmarks: np.ndarray
    outline: np.ndarray  # face hull points
    stats: Stats | None  # LAB colour statistics of the face
    basis: Rect  # the part of the source the facts so far were computed from
    head: tuple[_Grid, np.ndarray] | None = None  # face + hair alpha, built when a background is given
    backdrop: _Backdrop | None = None  # the last background and the source lit like it


@dataclass
class _Backdrop:
    """A background, its lighting, and the source re-lit to it: reused while the background stays."""

    image: np.ndarray
    lighting: Stats | None
    person: np.ndarray  # the source as float RGB 0-1, colours moved towards the background's lighting


def _outline(landmarks: np.ndarray, forehead: float) -> np.ndarray:
    """Jaw points and the brows raised by ``forehead`` x brow-to-nose-tip vector: the face hull's corners.

    The brow-to-nose-tip vector gives the forehead's direction and scale under any head roll.
    """
    up = landmarks[BROWS].mean(0) - landmarks[NOSE_TIP]
    return np.concatenate([landmarks[JAW], landmarks[BROWS] + forehead * up]).astype(np.float64)


def _face_size(outline: np.ndarray) -> float:
    return float(np.ptp(outline, axis=0).max())


def _blur(canvas: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(canvas.astype(np.float32) * np.float32(1 / 255), (0, 0), sigma)


def _grid_scale(sigma: float) -> float:
    return min(1.0, _GRID_SIGMA / sigma)


def face_mask(landmarks: np.ndarray, shape: tuple[int, int], forehead: float = 0.5,
              feather: float = 0.08) -> np.ndarray:
    """float32 HxW in [0,1]: convex hull of jaw (0-16) + forehead points, feathered by a Gaussian.

    Forehead points are the brows raised by ``forehead`` x the brow-to-nose-tip vector; the Gaussian's
    sigma is ``feather`` x face size (the hull's larger extent). The hull's edge sits at the 0.5 level.
    """
    if not feather > 0:
        raise ValueError(f"feather must be > 0, got {feather}")
    outline = _outline(np.asarray(landmarks, np.float64), forehead)
    sigma = feather * _face_size(outline)
    scale = _grid_scale(sigma)
    out = np.zeros(shape[:2], np.float32)
    grid = _Grid.around([outline], _PAD_SIGMAS * sigma, scale, shape[:2])
    if grid is not None:
        out[grid.slices] = grid.upsample(_blur(grid.fill([outline]), sigma * scale))
    return out


def _float(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB -> float32 0-1 (float passes through): colour work in float keeps round trips exact."""
    return rgb.astype(np.float32) * np.float32(1 / 255) if rgb.dtype == np.uint8 else rgb


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    """LAB (L 0-100) of uint8 or 0-1 float RGB."""
    return cv2.cvtColor(_float(rgb), cv2.COLOR_RGB2LAB)


def _lab_stats(rgb: np.ndarray, inside: np.ndarray | None = None) -> Stats | None:
    """LAB mean and std of the pixels ``inside`` (all if None); None when too few to trust."""
    lab = _to_lab(rgb).reshape(-1, 3)
    if inside is not None:
        lab = lab[inside.ravel()]
    if len(lab) < _MIN_STAT_PIXELS:
        return None
    return lab.mean(0), lab.std(0)


def _lab_transfer(rgb: np.ndarray, have: Stats | None, want: Stats | None, strength: float) -> np.ndarray:
    """Move ``rgb``'s LAB mean/std from ``have`` towards ``want`` by ``strength``; float RGB 0-1 out."""
    if have is None or want is None or strength == 0:
        return _float(rgb)
    gain = np.clip(want[1] / np.maximum(have[1], 1e-3), *_GAIN_RANGE)
    gain = 1 + strength * (gain - 1)
    offset = have[0] + strength * (want[0] - have[0]) - gain * have[0]
    lab = cv2.transform(_to_lab(rgb), np.float32(np.c_[np.diag(gain), offset]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _to_uint8(rgb: np.ndarray) -> np.ndarray:
    """float RGB 0-1 -> uint8, rounded and saturated."""
    return cv2.multiply(rgb, 255.0, dtype=cv2.CV_8U)


def _alpha_blend(under: np.ndarray, over: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """(1 - alpha) * under + alpha * over in float RGB 0-1 with an HxW alpha."""
    return cv2.blendLinear(_float(over), _float(under), alpha, 1 - alpha)


def _poisson(over: np.ndarray, under: np.ndarray, region: np.ndarray) -> np.ndarray:
    """cv2.seamlessClone of ``over`` into ``under`` (both uint8) inside ``region``, kept in place."""
    mask = region.astype(np.uint8) * 255
    x, y, w, h = cv2.boundingRect(mask[1:-1, 1:-1])  # seamlessClone clears the mask's outer pixels
    if w == 0 or h == 0:
        return under.copy()
    # seamlessClone puts the mask's bounding box at centre - size // 2: this centre keeps it in place
    centre = (x + 1 + w // 2, y + 1 + h // 2)
    return cv2.seamlessClone(np.ascontiguousarray(over), np.ascontiguousarray(under), mask, centre, cv2.NORMAL_CLONE)


def _colour_map(frame: np.ndarray, inside: np.ndarray, want: Stats | None) -> np.ndarray | None:
    """The LAB mean/std transfer of ``frame``'s pixels ``inside`` to ``want``, as the 3x4 affine map on
    uint8 RGB that fits it best over those pixels (None when either side's statistics are missing).

    LAB is curved, but over the colours of one face an affine map follows it closely, and at full
    resolution it costs one ``cv2.transform`` instead of two LAB conversions in float.
    """
    have = _lab_stats(frame, inside)
    if have is None or want is None:
        return None
    pixels = _float(frame)[inside]
    moved = _lab_transfer(pixels[None], have, want, 1.0)[0]
    fit, *_ = np.linalg.lstsq(np.c_[pixels, np.ones(len(pixels))], moved, rcond=None)  # (4, 3)
    return np.float32(np.c_[fit[:3].T, 255 * fit[3]])


def _head_alpha(source: np.ndarray, landmarks: np.ndarray, forehead: float, feather: float) -> tuple[_Grid, np.ndarray]:
    """Face + hair alpha of the source: a landmark prior of where hair can be, refined by GrabCut.

    In face-aligned coordinates (x across the jaw in half jaw widths, y up from the brows in
    brow-to-chin heights) hair may lie in a half-ellipse over the brows and down the sides to
    mid-ear; GrabCut decides which of those pixels look like the face/hair rather than the
    surroundings. The neck and body are left out (FACEGAN's segmentation: face, hair, background).
    """
    brow = landmarks[BROWS].mean(0).astype(np.float64)
    up = brow - landmarks[CHIN]
    height = float(np.linalg.norm(up))
    u = up / height
    r = np.array([-u[1], u[0]])  # image-right for an upright face (image y points down)
    half_width = abs(float(np.dot(landmarks[16] - landmarks[0], r))) / 2
    outline = _outline(landmarks, forehead)
    sigma = 0.25 * feather * _face_size(outline)  # hair edges are sharp: a wide feather shows a halo

    angles = np.linspace(0, 2 * np.pi, 33)
    ring = brow + np.outer(2.2 * half_width * np.cos(angles), r) + np.outer(1.5 * height * np.sin(angles), u)
    grid = _Grid.around([ring, outline], _PAD_SIGMAS * sigma, min(1.0, _HEAD_GRID / height), source.shape[:2])
    assert grid is not None  # the source face was found inside the frame

    gx, gy = np.meshgrid(np.arange(grid.size[0]), np.arange(grid.size[1]))
    rel = grid.to_frame(np.stack([gx, gy], -1).astype(np.float64)) - brow
    x, y = rel @ r / half_width, rel @ u / height
    hair = (y >= -0.35) & ((x / 1.6) ** 2 + (np.maximum(y, 0) / 1.0) ** 2 <= 1)
    near = (y >= -0.6) & ((x / 2.2) ** 2 + (y / 1.5) ** 2 <= 1)
    face = grid.fill([outline]) > 127
    centre = outline.mean(0)
    core = grid.fill([centre + 0.85 * (outline - centre)]) > 127

    labels = np.full(face.shape, cv2.GC_BGD, np.uint8)
    labels[near] = cv2.GC_PR_BGD
    labels[hair] = cv2.GC_PR_FGD
    labels[core] = cv2.GC_FGD
    if (labels == cv2.GC_BGD).sum() >= _MIN_STAT_PIXELS:  # GrabCut needs background samples
        models = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        cv2.setRNGSeed(0)  # GrabCut seeds its colour models by k-means on OpenCV's global RNG
        cv2.grabCut(grid.shrink(source), labels, None, *models, 4, cv2.GC_INIT_WITH_MASK)
    head = ((labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)) & (hair | face) | face
    head = cv2.morphologyEx(head.astype(np.uint8), cv2.MORPH_CLOSE,
                            cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    _, parts = cv2.connectedComponents(head)
    head = np.isin(parts, np.unique(parts[core & (head > 0)])).astype(np.uint8) * 255
    # the 0.5 level moves one sigma inside the cut, so the surroundings do not bleed in as a halo
    grid_sigma = max(sigma * float(grid.scale.mean()), 0.5)
    radius = round(grid_sigma)
    head = cv2.erode(head, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1)))
    return grid, grid.upsample(_blur(head, grid_sigma))


def _inner(alpha: np.ndarray) -> np.ndarray:
    """The inside of a feathered face mask: 0 at its 0.5 level (the hull), 1 from its 0.9 level inwards.

    The feather that hides seams inside the source frame would, over another background, show the
    source's neck and surroundings as a translucent ghost around the face.
    """
    return np.clip((alpha - 0.5) * 2.5, 0, 1)


def _view(rect: Rect, within: Rect, canvas: np.ndarray) -> np.ndarray:
    """The part of ``canvas`` (which covers ``within``) that covers ``rect`` (inside ``within``)."""
    return canvas[rect[1] - within[1]:rect[3] - within[1], rect[0] - within[0]:rect[2] - within[0]]


def _whole(image: np.ndarray) -> Rect:
    return (0, 0) + image.shape[1::-1]


def _union(a: Rect, b: Rect) -> Rect:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _check_background(background: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The background as HxWx3 uint8 of the source's size (resized if needed)."""
    if not (isinstance(background, np.ndarray) and background.dtype == np.uint8 and background.ndim == 3
            and background.shape[2] == 3 and min(background.shape[:2]) > 0):
        got = f"{background.dtype} array of shape {background.shape}" if isinstance(background, np.ndarray) \
            else type(background).__name__
        raise ConfigError(f"background must be an HxWx3 uint8 RGB image, got {got}")
    h, w = shape[:2]
    if background.shape[:2] == (h, w):
        return background
    shrink = background.shape[0] >= h and background.shape[1] >= w
    return cv2.resize(background, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


class BlendMixer:
    """Composes reenacted faces over the source frame or another background (see the module docstring).

    ``mode`` "feather" alpha-blends with the feathered mask (fast); "poisson" uses
    cv2.seamlessClone (NORMAL_CLONE) inside the mask, hiding colour seams at some cost in speed.
    ``color_match`` corrects the reenacted face's LAB mean/std to the source face's (fixing the
    reenactor's shading drift) and, on another background, moves the person's colours 30 % towards
    that background's lighting. ``feather`` is the mask's Gaussian sigma as a fraction of the face
    size; ``forehead`` how far above the brows the face mask reaches, in brow-to-nose-tip lengths.
    """

    def __init__(self, mode: str = "feather", color_match: bool = True, feather: float = 0.08,
                 forehead: float = 0.5, find_face: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if mode not in MODES:
            raise ConfigError(f"unknown mix mode {mode!r}; valid modes: {', '.join(MODES)}")
        if not (feather > 0 and forehead >= 0):
            raise ConfigError(f"mix options need feather > 0 and forehead >= 0, got feather={feather}, "
                              f"forehead={forehead}")
        self.mode = mode
        self.color_match = bool(color_match)
        self.feather = float(feather)
        self.forehead = float(forehead)
        self._source: _SourceFace | None = None
        self._find = find_face

    def mix(self, source: np.ndarray, reenacted: np.ndarray, target_landmarks: np.ndarray,
            background: np.ndarray | None = None, *, source_landmarks: np.ndarray | None = None) -> np.ndarray:
        """source HxWx3 uint8; reenacted (N,H,W,3) uint8; target_landmarks (N,68,2).
        Returns (N,H,W,3) uint8: reenacted face region (mask of target landmarks, union with the source face mask
        so no ghost of the old face remains where the face moved away) over `background` (default: the source frame).
        With another background (HxWx3, resized to source size if needed), the person's face+hair region
        (face mask grown upwards/sideways to include hair, estimated from landmarks + a GrabCut refinement
        initialised from the landmark mask, computed ONCE per source) is composited onto it.

        ``source_landmarks`` (68, 2) skips detecting the source face (HOG + dlib 68) when the caller
        has them. Frames whose target landmarks are not finite show the source face region.
        """
        source = np.asarray(source)
        reenacted = np.asarray(reenacted)
        target_landmarks = np.asarray(target_landmarks, np.float64)
        check_source(source)
        if reenacted.dtype != np.uint8 or reenacted.shape[1:] != source.shape:
            raise ValueError(f"reenacted must be (N,{','.join(map(str, source.shape))}) uint8, "
                             f"got {reenacted.dtype} {reenacted.shape}")
        if target_landmarks.shape != (len(reenacted), 68, 2):
            raise ValueError(f"target_landmarks must be ({len(reenacted)},68,2), got {target_landmarks.shape}")
        face = self._source_face(source, source_landmarks)
        if background is None:
            return self._onto_source(source, reenacted, target_landmarks, face)
        return self._onto_background(source, reenacted, target_landmarks, face,
                                     _check_background(background, source.shape))

    def _source_face(self, source: np.ndarray, landmarks: np.ndarray | None) -> _SourceFace:
        """The facts about ``source``, recomputed only when another source (or other landmarks) comes.

        Comparing the pixels the facts were computed from (the face's rectangle; the whole frame once
        a background was given) is exact and cheaper than hashing them: the face's rectangle is about
        a twentieth of a 2048x2048 portrait.
        """
        if landmarks is not None:
            landmarks = np.asarray(landmarks, np.float64).reshape(68, 2)
        known, whole = self._source, _whole(source)
        if (known is not None and known.image.shape == source.shape
                and same_image(_view(known.basis, whole, known.image), _view(known.basis, whole, source))
                and (landmarks is None or np.array_equal(known.landmarks, landmarks))):
            return known
        if landmarks is None:
            landmarks = self._find_face(source)
        outline = _outline(landmarks, self.forehead)
        sigma = self.feather * _face_size(outline)
        grid = _Grid.around([outline], 0, _grid_scale(sigma), source.shape[:2])
        if grid is None:
            raise NoFaceError("the source face lies outside the source frame")
        stats = _lab_stats(grid.shrink(source), grid.fill([outline]) > 127)
        self._source = _SourceFace(source.copy(), landmarks, outline, stats, grid.rect)
        return self._source

    def _find_face(self, source: np.ndarray) -> np.ndarray:
        """Landmarks of the source face from the ``find_face`` the mixer was given (the pipeline always
        passes ``source_landmarks`` instead)."""
        if self._find is None:
            raise NoFaceError("the blend mixer needs the source face's landmarks: pass source_landmarks "
                              "(or build it with find_face=)")
        return np.asarray(self._find(source), np.float64).reshape(68, 2)

    def region(self, shape: tuple[int, ...], target_landmarks: np.ndarray, *, source_landmarks: np.ndarray) -> Rect:
        """The rectangle of the reenacted frames that ``mix`` reads for these targets (``Capabilities.region``):
        the union of each frame's face grid; (0, 0, 0, 0) when no face is inside the frame."""
        outline = _outline(np.asarray(source_landmarks, np.float64).reshape(68, 2), self.forehead)
        rects = [grid.rect for lm in np.asarray(target_landmarks, np.float64).reshape(-1, 68, 2)
                 if (grid := self._face_grid(shape, lm, outline)[0]) is not None]
        return functools.reduce(_union, rects) if rects else (0, 0, 0, 0)

    def _face_grid(self, shape: tuple[int, ...], landmarks: np.ndarray,
                   source_outline: np.ndarray) -> tuple[_Grid | None, list[np.ndarray], float]:
        """The grid a reenacted face is mixed on (None when outside the frame), the outlines it covers
        (the target's first, unless its landmarks are missing) and the mask's feather sigma."""
        outlines = [_outline(landmarks, self.forehead), source_outline] if np.isfinite(landmarks).all() \
            else [source_outline]
        sigma = self.feather * max(map(_face_size, outlines))
        return _Grid.around(outlines, _PAD_SIGMAS * sigma, _grid_scale(sigma), shape[:2]), outlines, sigma

    def _face_into_source(self, source: np.ndarray, frame: np.ndarray, landmarks: np.ndarray, face: _SourceFace,
                          into: np.ndarray | None = None) -> tuple[_Grid, np.ndarray, np.ndarray] | None:
        """The reenacted face put into the source frame inside its grid: (grid, uint8 RGB, alpha).

        The RGB is written straight into the grid's rectangle of ``into`` (a frame-sized array) when
        given, sparing a copy of the face's pixels. None when no part of either face is inside the frame.
        """
        grid, outlines, sigma = self._face_grid(source.shape, landmarks, face.outline)
        if grid is None:
            return None
        scale = _grid_scale(sigma)
        target = grid.fill(outlines[:1])
        alpha = grid.upsample(_blur(np.maximum(target, grid.fill(outlines[1:])), sigma * scale))
        over = frame[grid.slices]
        colours = _colour_map(grid.shrink(frame), target > 127, face.stats) if self.color_match else None
        if colours is not None:
            over = cv2.transform(over, colours)
        under, dst = source[grid.slices], None if into is None else into[grid.slices]
        if self.mode == "feather":
            return grid, cv2.blendLinear(over, under, alpha, 1 - alpha, dst=dst), alpha
        rgb = _poisson(over, under, alpha > _POISSON_LEVEL)
        if dst is not None:
            dst[:] = rgb
        return grid, rgb, alpha

    def _onto_source(self, source: np.ndarray, reenacted: np.ndarray, landmarks: np.ndarray,
                     face: _SourceFace) -> np.ndarray:
        out = np.empty_like(reenacted)
        for i, frame in enumerate(reenacted):
            out[i] = source
            self._face_into_source(source, frame, landmarks[i], face, into=out[i])
        return out

    def _onto_background(self, source: np.ndarray, reenacted: np.ndarray, landmarks: np.ndarray,
                         face: _SourceFace, background: np.ndarray) -> np.ndarray:
        """Face into the source, then the source's face + hair (and the new face) onto ``background``."""
        whole = _whole(source)
        if face.basis != whole:  # the person layer will be the whole source: recognise it by all of it
            face.image[:], face.basis = source, whole
        if face.head is None:
            face.head = _head_alpha(source, face.landmarks, self.forehead, self.feather)
        head_grid, head_alpha = face.head
        strength = _BACKGROUND_STRENGTH if self.color_match else 0.0
        if face.backdrop is None or not same_image(face.backdrop.image, background):
            small = min(1.0, _BACKGROUND_STATS_SIZE / max(background.shape[:2]))
            lighting = _lab_stats(cv2.resize(background, None, fx=small, fy=small, interpolation=cv2.INTER_AREA))
            face.backdrop = _Backdrop(background.copy(), lighting,
                                      _lab_transfer(source, face.stats, lighting, strength))
        lighting, person = face.backdrop.lighting, face.backdrop.person
        out = np.empty_like(reenacted)
        for i, frame in enumerate(reenacted):
            out[i] = background
            mixed = self._face_into_source(source, frame, landmarks[i], face)
            rect = head_grid.rect if mixed is None else _union(head_grid.rect, mixed[0].rect)
            layer = _view(rect, whole, person).copy()
            alpha = np.zeros(layer.shape[:2], np.float32)
            _view(head_grid.rect, rect, alpha)[:] = head_alpha
            if mixed is not None:
                grid, rgb, face_alpha = mixed
                _view(grid.rect, rect, layer)[:] = _lab_transfer(rgb, face.stats, lighting, strength)
                np.maximum(_view(grid.rect, rect, alpha), _inner(face_alpha), out=_view(grid.rect, rect, alpha))
            frame_out = _view(rect, whole, out[i])
            frame_out[:] = _to_uint8(_alpha_blend(frame_out, layer, alpha))
        return out


@hookimpl
def facegan_video_mixers() -> list[Backend]:
    return [Backend("blend", BlendMixer, "face mask from landmarks, colour matching, feathered or Poisson "
                                         "blending into the source frame or another background", options=(
        Option("mode", str, "feather", "feather: alpha blend with a soft mask (fast); poisson: seamless cloning",
               choices=MODES),
        Option("color_match", bool, True, "match the face's colours to the source face (and towards a new background)"),
        Option("feather", float, 0.08, "mask softness (Gaussian sigma) in face sizes", low=0, low_open=True, high=1),
        Option("forehead", float, 0.5, "how far above the brows the mask reaches, in brow-to-nose-tip lengths",
               low=0, high=3),
    ), capabilities=Capabilities(region=True))]
