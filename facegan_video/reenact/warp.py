"""Weights-free reenactor: a piecewise-affine warp of the source face onto target landmarks.

The mesh is the 68 landmarks plus forehead points (which follow the brows and eyes), a ring around
the head (which follows only the face's global similarity motion, so hair and neck move smoothly)
and a fixed frame around the ring (the region of interest's border: nothing outside it changes).
It is triangulated once per source; each target is rendered by inverse mapping (triangle ids of the
target mesh, one affine per triangle from target to source, ``cv2.remap``). What the source pixels
cannot show, an opened mouth's interior and a closed eyelid, is painted.

The per-pixel map is computed on a grid of at most ``work_size`` pixels across the face region and
upsampled bilinearly (exact inside each triangle, since the map is affine there), and the source is
sampled at its full resolution: a 3000-pixel portrait keeps its sharpness at the cost of a
256-pixel one plus one ``cv2.remap``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from facegan_video.analysis.geometry import RIGID
from facegan_video.errors import ConfigError
from facegan_video.hookspecs import hookimpl
from facegan_video.ibug import (
    EYE_LEFT,
    EYE_RIGHT,
    INNER_LOWER,
    INNER_MOUTH,
    INNER_UPPER,
    JAW,
    LIPS_OUTER,
    OUTER_LOWER,
    OUTER_UPPER,
)
from facegan_video.options import Option
from facegan_video.reenact import check_source, same_image
from facegan_video.types import Backend, Capabilities, Rect

#: Brows and eye corners: the rigid part of the upper face that the forehead follows.
FOREHEAD_ANCHORS = np.r_[17:27, 36, 39, 42, 45]
CHEEKS = (np.array([2, 3, 48, 31]), np.array([14, 13, 54, 35]))


@dataclass(frozen=True)
class _Eye:
    contour: np.ndarray  # 6 points clockwise from the outer corner; [1, 2] upper lid, [4, 5] lower
    upper: np.ndarray
    lower: np.ndarray  # vertically below ``upper``, pair by pair
    lid: np.ndarray  # corners and upper lid, with the brow points above them in ``brow``
    brow: np.ndarray


EYES = (
    _Eye(np.arange(36, 42), np.array([37, 38]), np.array([41, 40]), np.r_[36:40], np.r_[18:22]),
    _Eye(np.arange(42, 48), np.array([43, 44]), np.array([47, 46]), np.r_[42:46], np.r_[22:26]),
)
RED_BROWN = np.array([100.0, 42.0, 38.0])
TEETH = np.array([236.0, 230.0, 218.0])
_EPS = 1e-6  # twice the area (px^2) below which a target triangle counts as collapsed
_UNFOLD_STEPS = 6


@dataclass(frozen=True)
class _Source:
    """Everything about one source that every target reuses; the pixels are sampled from each call's
    source, so only the face box the colours were measured in is kept, to recognise the source by."""

    shape: tuple[int, ...]
    face_box: tuple[int, int, int, int]  # holds every region the colours are measured in
    face: np.ndarray  # a copy of the source inside ``face_box``
    points: np.ndarray  # (P, 2) vertices: 68 landmarks, forehead, ring, frame (in this order)
    n_forehead: int
    n_ring: int
    tris: np.ndarray  # (M, 3) vertex ids, counter-clockwise on the (opened) source mesh
    area: np.ndarray  # (M,) twice the signed source areas
    frame_box: np.ndarray  # (4,) x0, y0, x1, y1 of the fixed frame
    roi: tuple[int, int, int, int]  # frame box in whole pixels inside the image, end exclusive
    grid: tuple[np.ndarray, np.ndarray]  # float32 image x and y of the working grid's pixel centres
    mouth_gap: float
    eye_gaps: np.ndarray  # (2,)
    lid_colours: np.ndarray  # (2, 3) upper-lid skin of each eye
    palette: np.ndarray  # (3, 3) mouth edge, mouth centre, teeth

    @property
    def landmarks(self) -> np.ndarray:
        return self.points[:68]

    @property
    def forehead(self) -> np.ndarray:
        return self.points[68:68 + self.n_forehead]

    @property
    def ring(self) -> np.ndarray:
        start = 68 + self.n_forehead
        return self.points[start:start + self.n_ring]

    @property
    def frame(self) -> np.ndarray:
        return self.points[68 + self.n_forehead + self.n_ring:]


class WarpReenactor:
    """Moves the source face to each target's landmarks by warping its pixels; needs no weights.

    ``forehead``: height of the forehead control points above the brows, as a fraction of the
    brow-to-nose-tip distance. ``margin``: distance of the head ring outside the face contour, as a
    fraction of the face size. ``mouth_interior``: paint a mouth interior where the target opens the
    mouth wider than the source. ``work_size``: longest side of the grid the warp map is computed on.
    """

    def __init__(self, mouth_interior: bool = True, forehead: float = 0.6, margin: float = 0.35,
                 work_size: int = 256) -> None:
        if not (forehead > 0 and margin > 0):  # at 0 control points would sit on the landmarks
            raise ConfigError(f"warp reenactor: forehead and margin must be > 0, got {forehead}, {margin}")
        self.mouth_interior = mouth_interior
        self.forehead = forehead
        self.margin = margin
        self.work_size = work_size
        self._source: _Source | None = None

    def reenact(self, source: np.ndarray, source_landmarks: np.ndarray, target_landmarks: np.ndarray,
                region: Rect | None = None) -> np.ndarray:
        """source: HxWx3 uint8 RGB (full frame); source_landmarks (68,2); target_landmarks (N,68,2).

        Returns (N,H,W,3) uint8: the full source frame with the face warped to each target; with
        ``region`` (``Capabilities.region``) only the pixels inside that rectangle, the rest unwritten.
        """
        check_source(source)
        source_landmarks = np.asarray(source_landmarks, np.float64).reshape(68, 2)
        if not np.isfinite(source_landmarks).all():
            raise ValueError("source landmarks must be finite")
        targets = np.asarray(target_landmarks, np.float64).reshape(-1, 68, 2)
        src = self._prepared(source, source_landmarks)
        out = np.empty((len(targets),) + source.shape, np.uint8)
        whole = (0, 0, source.shape[1], source.shape[0])
        around = whole if region is None else _intersection(whole, tuple(int(v) for v in region))
        for frame, target in zip(out, targets):
            self._render(src, source, target, frame, around)
        return out

    def _prepared(self, source: np.ndarray, landmarks: np.ndarray) -> _Source:
        """The mesh and colours of ``source``, rebuilt only when another source (or other landmarks)
        comes: a video's frames are rendered a few at a time onto the same source. Only the face box
        is compared, about a twentieth of a 2048x2048 portrait."""
        known = self._source
        if not (known is not None and known.shape == source.shape and np.array_equal(known.landmarks, landmarks)
                and same_image(known.face, _crop(source, known.face_box))):
            self._source = _prepare(source, landmarks, self.forehead, self.margin, self.work_size)
        return self._source

    def _render(self, src: _Source, image: np.ndarray, target: np.ndarray, frame: np.ndarray,
                around: Rect) -> None:
        """Writes the part ``around`` of one reenacted frame of the source ``image`` into ``frame``
        (the source, warped inside the ROI); a target with missing (NaN) points leaves the source."""
        roi = _intersection(src.roi, around)
        if not np.isfinite(target).all() or _empty(roi):
            frame[:] = image
            return
        lm = _uncross(target, _axes(target)[1])
        x0, y0, x1, y1 = roi
        # the source only around the ROI, which the warp writes in place
        (ax0, ay0, ax1, ay1), rows = around, slice(y0, y1)
        frame[ay0:y0, ax0:ax1], frame[y1:ay1, ax0:ax1] = image[ay0:y0, ax0:ax1], image[y1:ay1, ax0:ax1]
        frame[rows, ax0:x0], frame[rows, x1:ax1] = image[rows, ax0:x0], image[rows, x1:ax1]
        _warp(src, image, _target_points(src, lm), roi, frame[y0:y1, x0:x1])
        down = _axes(lm)[1]
        if self.mouth_interior:
            _paint_mouth(frame, src, lm, down)
        _close_eyes(frame, src, lm, down)


def _axes(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along the eye line and down the face, so openings are measured under head roll."""
    right = lm[EYE_RIGHT].mean(0) - lm[EYE_LEFT].mean(0)
    right = right / max(float(np.linalg.norm(right)), 1e-6)
    return right, np.array([-right[1], right[0]])


def _gap(lm: np.ndarray, upper: np.ndarray, lower: np.ndarray, down: np.ndarray) -> float:
    """Mean opening between paired upper and lower contour points, along the face's vertical."""
    return float(((lm[lower] - lm[upper]) @ down).mean())


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Least-squares rotation, scale and translation taking points a to b, as a 2x3 matrix."""
    ca, cb = a.mean(0), b.mean(0)
    za = (a[:, 0] - ca[0]) + 1j * (a[:, 1] - ca[1])
    zb = (b[:, 0] - cb[0]) + 1j * (b[:, 1] - cb[1])
    z = np.vdot(za, zb) / max(float(np.vdot(za, za).real), 1e-12)
    m = np.array([[z.real, -z.imag], [z.imag, z.real]])
    return np.c_[m, cb - m @ ca]


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def _areas(pts: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Twice the signed area of each triangle (positive counter-clockwise in image coordinates)."""
    a, b, c = pts[tris[:, 0]], pts[tris[:, 1]], pts[tris[:, 2]]
    return (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])


def _uncross(lm: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Meets lids and lips that the target pushes past each other, so a blink collapses instead of folding."""
    lm = lm.copy()
    for upper, lower in [(INNER_UPPER, INNER_LOWER)] + [(e.upper, e.lower) for e in EYES]:
        crossed = (lm[lower] - lm[upper]) @ down < 0
        mid = (lm[upper[crossed]] + lm[lower[crossed]]) / 2
        lm[upper[crossed]] = mid
        lm[lower[crossed]] = mid
    return lm


def _opened(lm: np.ndarray, down: np.ndarray) -> np.ndarray:
    """Landmarks with inner lips and eyelids apart, so the triangulation keeps mouth and eyes separate
    even when the source's are closed (a closed mouth's two lip rows nearly coincide)."""
    lm = lm.copy()
    lm[INNER_UPPER] += 0.5 * (lm[OUTER_UPPER] - lm[INNER_UPPER])
    lm[INNER_LOWER] += 0.5 * (lm[OUTER_LOWER] - lm[INNER_LOWER])
    for eye in EYES:
        width = float(np.linalg.norm(lm[eye.contour[3]] - lm[eye.contour[0]]))
        short = max(0.3 * width - _gap(lm, eye.upper, eye.lower, down), 0.0)
        lm[eye.upper] -= short / 2 * down
        lm[eye.lower] += short / 2 * down
    return lm


def _triangulate(pts: np.ndarray) -> np.ndarray:
    """Delaunay triangles (vertex ids, counter-clockwise) of points; of duplicate points only the first is used."""
    lo, hi = pts.min(0) - 2, pts.max(0) + 2
    subdiv = cv2.Subdiv2D((int(np.floor(lo[0])), int(np.floor(lo[1])), int(np.ceil(hi[0] - lo[0])) + 1,
                           int(np.ceil(hi[1] - lo[1])) + 1))
    vertices = [(float(x), float(y)) for x, y in pts.astype(np.float32)]
    subdiv.insert(vertices)
    # Subdiv2D hands back the inserted float32 values
    index = {v: i for i, v in reversed(list(enumerate(vertices)))}
    found = []
    for corners in subdiv.getTriangleList().reshape(-1, 3, 2):
        ids = [index.get((float(x), float(y))) for x, y in corners]
        if None not in ids:  # not a triangle on Subdiv2D's virtual outer vertices
            found.append(ids)
    tris = np.array(found, np.int64).reshape(-1, 3)
    flip = _areas(pts, tris) < 0
    tris[flip] = tris[flip][:, [0, 2, 1]]
    return tris


def _forehead_points(lm: np.ndarray, height: float, down: np.ndarray) -> np.ndarray:
    """Brow points pushed up by ``height`` x the brow-to-nose-tip distance."""
    brows = lm[17:27]
    rise = height * float(np.linalg.norm(brows.mean(0) - lm[30]))
    return brows - rise * down


def _ring_points(lm: np.ndarray, forehead: np.ndarray, distance: float) -> np.ndarray:
    """Every other point of the jaw-and-forehead contour, pushed radially outward by ``distance``."""
    contour = np.concatenate([lm[JAW], forehead[::-1]])[::2]
    out = contour - contour.mean(0)
    return contour + distance * out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


def _frame_points(box: np.ndarray, spacing: float) -> np.ndarray:
    """Points around a rectangle, at most ``spacing`` apart, corners included."""
    x0, y0, x1, y1 = box
    nx = max(int(np.ceil((x1 - x0) / spacing)), 1)
    ny = max(int(np.ceil((y1 - y0) / spacing)), 1)
    xs, ys = np.linspace(x0, x1, nx + 1), np.linspace(y0, y1, ny + 1)
    return np.concatenate([
        np.c_[xs, np.full_like(xs, y0)], np.c_[xs, np.full_like(xs, y1)],
        np.c_[np.full(ny - 1, x0), ys[1:-1]], np.c_[np.full(ny - 1, x1), ys[1:-1]],
    ])


def _region_colour(image: np.ndarray, polygons: list[np.ndarray], holes: Sequence[np.ndarray] = ()) -> np.ndarray:
    """Median colour inside polygons but not holes (robust to lashes and specular spots); the nearest
    pixel to the first vertex if that is empty (e.g. outside the image)."""
    box = _patch(np.concatenate(polygons), 1, image.shape)
    x0, y0, x1, y1 = box
    mask = np.zeros((max(y1 - y0, 0), max(x1 - x0, 0)), np.uint8)
    if not _empty(box):
        for value, group in ((255, polygons), (0, holes)):
            if len(group):
                cv2.fillPoly(mask, [np.round((p - (x0, y0)) * 16).astype(np.int32) for p in group], value,
                             cv2.LINE_8, 4)
    pixels = image[y0:y1, x0:x1][mask > 0]
    if len(pixels) == 0:
        x, y = np.clip(np.round(polygons[0][0]).astype(int), 0, np.array(image.shape[1::-1]) - 1)
        return image[y, x].astype(np.float64)
    return np.median(pixels, axis=0)


def _lid_colour(image: np.ndarray, lm: np.ndarray, eye: _Eye) -> np.ndarray:
    """Skin of a band above the upper lid, clear of lashes and brow, which covers a closed eye."""
    lid, brow = lm[eye.lid], lm[eye.brow]
    band = np.concatenate([lid + 0.2 * (brow - lid), (lid + 0.55 * (brow - lid))[::-1]])
    return _region_colour(image, [band])


def _palette(image: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Mouth-interior edge and centre colours (a darkened lip red, leaning red-brown) and a teeth
    colour, all scaled to the face's lighting."""
    lips = _region_colour(image, [lm[LIPS_OUTER]], [lm[INNER_MOUTH]])
    skin = _region_colour(image, [lm[c] for c in CHEEKS])
    light = float(np.clip((skin @ [0.299, 0.587, 0.114]) / 170.0, 0.5, 1.05))
    edge = 0.5 * (0.55 * lips) + 0.5 * RED_BROWN * light
    return np.stack([edge, edge * [0.45, 0.3, 0.3], TEETH * light])


def _prepare(image: np.ndarray, lm: np.ndarray, forehead: float, margin: float, work_size: int) -> _Source:
    """Builds the source mesh, its triangulation, the ROI and the colours used for painting."""
    h, w = image.shape[:2]
    down = _axes(lm)[1]
    size = float((lm.max(0) - lm.min(0)).max())
    fore = _forehead_points(lm, forehead, down)
    ring = _ring_points(lm, fore, margin * size)
    moving = np.concatenate([lm, fore, ring])
    pad = max(margin, 0.1) * size
    frame_box = np.concatenate([moving.min(0) - pad, moving.max(0) + pad])
    frame = _frame_points(frame_box, max(margin, 0.1) * size)
    points = np.concatenate([moving, frame])
    tris = _triangulate(np.concatenate([_opened(lm, down), fore, ring, frame]))
    x0, y0 = np.clip(np.floor(frame_box[:2]).astype(int), 0, [w, h])
    x1, y1 = np.clip(np.ceil(frame_box[2:]).astype(int) + 1, 0, [w, h])
    # working-grid pixel centres in image coordinates, with cv2.resize's convention (integers at full size)
    scale = min(1.0, work_size / max(x1 - x0, y1 - y0, 1))
    gw, gh = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
    gx, gy = np.meshgrid((x0 + (np.arange(gw) + 0.5) * ((x1 - x0) / gw) - 0.5).astype(np.float32),
                         (y0 + (np.arange(gh) + 0.5) * ((y1 - y0) / gh) - 0.5).astype(np.float32))
    face_box = _patch(lm, 1, image.shape)  # around every polygon _region_colour reads (its own pad is 1)
    return _Source(
        shape=image.shape, face_box=face_box, face=_crop(image, face_box).copy(), points=points,
        n_forehead=len(fore), n_ring=len(ring), tris=tris,
        area=_areas(points, tris), frame_box=frame_box, roi=(int(x0), int(y0), int(x1), int(y1)), grid=(gx, gy),
        mouth_gap=_gap(lm, INNER_UPPER, INNER_LOWER, down),
        eye_gaps=np.array([_gap(lm, e.upper, e.lower, down) for e in EYES]),
        lid_colours=np.stack([_lid_colour(image, lm, e) for e in EYES]),
        palette=_palette(image, lm),
    )


def _head_motion(src: _Source, lm: np.ndarray) -> np.ndarray:
    """The face's similarity motion (from points that barely move with expression), scaled back
    towards no motion until the ring stays inside the fixed frame."""
    full = _similarity(src.landmarks[RIGID], lm[RIGID])
    still = np.eye(2, 3)
    lo, hi = src.frame_box[:2] + 1, src.frame_box[2:] - 1
    for t in (1.0, 0.75, 0.5, 0.25):
        m = still + t * (full - still)
        ring = _apply(m, src.ring)
        if (ring >= lo).all() and (ring <= hi).all():
            return m
    return still


def _target_points(src: _Source, lm: np.ndarray) -> np.ndarray:
    """Target positions of every mesh vertex, with fold-overs pulled back towards the head's motion."""
    head = _head_motion(src, lm)
    fore = _apply(_similarity(src.landmarks[FOREHEAD_ANCHORS], lm[FOREHEAD_ANCHORS]), src.forehead)
    pts = np.concatenate([lm, fore, _apply(head, src.ring), src.frame])
    n_moving = len(pts) - len(src.frame)
    base = np.concatenate([_apply(head, src.points[:n_moving]), src.frame])
    for _ in range(_UNFOLD_STEPS):
        folded = (_areas(pts, src.tris) < -_EPS) & (src.area >= -_EPS)
        if not folded.any():
            break
        v = np.unique(src.tris[folded])
        pts[v] = base[v] + 0.5 * (pts[v] - base[v])
    return pts


def _inverse_affines(src_pts: np.ndarray, dst_pts: np.ndarray, tris: np.ndarray, area: np.ndarray) -> np.ndarray:
    """(M + 1, 6) float32 affines taking each target triangle to its source triangle; the last row is
    the identity, for ROI pixels no triangle covers."""
    t0, s0 = dst_pts[tris[:, 0]], src_pts[tris[:, 0]]
    d1, d2 = dst_pts[tris[:, 1]] - t0, dst_pts[tris[:, 2]] - t0
    e1, e2 = src_pts[tris[:, 1]] - s0, src_pts[tris[:, 2]] - s0
    det = np.where(np.abs(area) > _EPS, area, 1.0)
    # L = [e1 e2] @ inv([d1 d2]), inv([d1 d2]) = [[d2y, -d2x], [-d1y, d1x]] / det
    lxx = (e1[:, 0] * d2[:, 1] - e2[:, 0] * d1[:, 1]) / det
    lxy = (e2[:, 0] * d1[:, 0] - e1[:, 0] * d2[:, 0]) / det
    lyx = (e1[:, 1] * d2[:, 1] - e2[:, 1] * d1[:, 1]) / det
    lyy = (e2[:, 1] * d1[:, 0] - e1[:, 1] * d2[:, 0]) / det
    ox = s0[:, 0] - lxx * t0[:, 0] - lxy * t0[:, 1]
    oy = s0[:, 1] - lyx * t0[:, 0] - lyy * t0[:, 1]
    coef = np.stack([lxx, lxy, ox, lyx, lyy, oy], 1)
    return np.concatenate([coef, [[1, 0, 0, 0, 1, 0]]]).astype(np.float32)


def _warp(src: _Source, image: np.ndarray, pts: np.ndarray, box: Rect, out: np.ndarray) -> None:
    """Writes the part ``box`` of the ROI of the output into ``out``: each pixel samples the source
    ``image`` where its target triangle's affine sends it."""
    x0, y0, x1, y1 = src.roi
    gx, gy = src.grid
    area = _areas(pts, src.tris)
    coef = _inverse_affines(src.points, pts, src.tris, area)
    ids = np.full(gx.shape, len(src.tris), np.int32)
    order = np.argsort(area)
    # small first, so larger neighbours own shared rim pixels, where a collapsing triangle's affine extrapolates
    order = order[area[order] > _EPS]
    to_grid = np.array([gx.shape[1] / (x1 - x0), gx.shape[0] / (y1 - y0)])
    fixed = np.round(((pts - (x0, y0) + 0.5) * to_grid - 0.5) * 16).astype(np.int32)
    for k in order:
        cv2.fillConvexPoly(ids, fixed[src.tris[k]], int(k), cv2.LINE_8, 4)
    c = np.take(coef, ids, axis=0)  # 4x faster than indexing with ids
    maps = np.empty(gx.shape + (2,), np.float32)  # x and y in one image: one resize, one remap map
    maps[..., 0] = c[..., 0] * gx + c[..., 1] * gy + c[..., 2]
    maps[..., 1] = c[..., 3] * gx + c[..., 4] * gy + c[..., 5]
    if gx.shape != (y1 - y0, x1 - x0):
        maps = cv2.resize(maps, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    maps = maps[box[1] - y0:box[3] - y0, box[0] - x0:box[2] - x0]  # the ROI's upsampling, so a box matches it
    cv2.remap(image, maps, None, cv2.INTER_LINEAR, dst=out, borderMode=cv2.BORDER_REFLECT)


def _patch(points: np.ndarray, pad: float, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """Whole-pixel box around points plus ``pad``, inside the image; end exclusive."""
    x0, y0 = np.clip(np.floor(points.min(0) - pad).astype(int), 0, [shape[1], shape[0]])
    x1, y1 = np.clip(np.ceil(points.max(0) + pad).astype(int) + 1, 0, [shape[1], shape[0]])
    return int(x0), int(y0), int(x1), int(y1)


def _crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    return image[box[1]:box[3], box[0]:box[2]]


def _empty(box: tuple[int, int, int, int]) -> bool:
    return box[2] <= box[0] or box[3] <= box[1]


def _intersection(a: Rect, b: Rect) -> Rect:
    return max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])


def _soft_polygon(polygon: np.ndarray, box: tuple[int, int, int, int], sigma: float) -> np.ndarray:
    """Anti-aliased polygon mask of a patch, Gaussian-feathered so painting blends into its rim."""
    x0, y0, x1, y1 = box
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round((polygon - (x0, y0)) * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    return cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma)


def _blend(frame: np.ndarray, box: tuple[int, int, int, int], colour: np.ndarray, alpha: np.ndarray) -> None:
    x0, y0, x1, y1 = box
    patch = frame[y0:y1, x0:x1].astype(np.float32)
    a = alpha[..., None]
    frame[y0:y1, x0:x1] = np.clip(patch + a * (colour - patch) + 0.5, 0, 255).astype(np.uint8)


def _paint_mouth(frame: np.ndarray, src: _Source, lm: np.ndarray, down: np.ndarray) -> None:
    """Paints a mouth interior where the target opens the mouth clearly wider than the source does.

    Dark red-brown, darker towards the middle; upper teeth along the upper inner lip once the
    opening is large. A source mouth that is already open keeps its own (warped) interior.
    """
    gap = _gap(lm, INNER_UPPER, INNER_LOWER, down)
    strength = float(np.clip((gap - src.mouth_gap - max(1.0, 0.3 * src.mouth_gap)) / 2.0, 0.0, 1.0))
    if strength <= 0:
        return
    left, right = lm[60], lm[64]
    width = max(float(np.linalg.norm(right - left)), 1.0)
    sigma = max(0.7, 0.04 * width)
    box = _patch(lm[INNER_MOUTH], 3 * sigma, frame.shape)
    if _empty(box):
        return
    alpha = _soft_polygon(lm[INNER_MOUTH], box, sigma) * strength
    axis = (right - left) / width
    normal = np.array([-axis[1], axis[0]])
    normal = normal if normal @ down >= 0 else -normal
    mid = (left + right) / 2
    gx, gy = np.meshgrid(np.arange(box[0], box[2]) - mid[0], np.arange(box[1], box[3]) - mid[1])
    u = (gx * axis[0] + gy * axis[1]) / (width / 2)  # -1 .. 1 between the mouth corners
    v = gx * normal[0] + gy * normal[1]  # pixels down the mouth
    rel = (lm - mid) @ np.c_[axis, normal]
    rel[:, 0] /= width / 2
    upper = _curve(rel[[60, 61, 62, 63, 64]], u)
    lower = _curve(rel[[60, 67, 66, 65, 64]], u)
    half = np.maximum((lower - upper) / 2, 0.5)
    depth = np.clip(1 - u**2 - ((v - (upper + lower) / 2) / half) ** 2, 0, 1)[..., None]
    edge, centre, teeth = src.palette
    colour = edge + (centre - edge) * np.sqrt(depth)
    across = np.sqrt(np.clip(1 - u**2, 0, 1))
    below = v - upper
    tooth_height = np.maximum(np.minimum(0.45 * (lower - upper), 0.18 * width) * across, 1e-3)
    show = float(np.clip((gap / width - 0.12) / 0.1, 0, 1))
    tooth_alpha = show * np.clip((tooth_height - below) / 1.2 + 0.5, 0, 1)[..., None]
    tooth_shade = ((0.55 + 0.45 * across) * (1 - 0.15 * np.clip(below / tooth_height, 0, 1)))[..., None]
    colour = colour + tooth_alpha * (teeth * tooth_shade - colour)
    _blend(frame, box, colour, alpha)


def _curve(points: np.ndarray, u: np.ndarray) -> np.ndarray:
    """v of a lip contour (points in mouth coordinates) at each u, linear between points."""
    order = np.argsort(points[:, 0])
    return np.interp(u, points[order, 0], points[order, 1])


def _close_eyes(frame: np.ndarray, src: _Source, lm: np.ndarray, down: np.ndarray) -> None:
    """Covers an eye the target closes to under 20% of its source opening with upper-lid skin and a
    lash line, fading in from 20% to 10%, so remnants of the iris or sclera cannot show."""
    for eye, source_gap, lid in zip(EYES, src.eye_gaps, src.lid_colours):
        ratio = _gap(lm, eye.upper, eye.lower, down) / max(float(source_gap), 0.5)
        strength = float(np.clip((0.2 - ratio) / 0.1, 0.0, 1.0))
        if strength <= 0:
            continue
        contour = lm[eye.contour].copy()
        width = max(float(np.linalg.norm(contour[3] - contour[0])), 1.0)
        contour[1:3] -= 0.12 * width * down
        contour[4:6] += 0.12 * width * down
        sigma = max(0.6, 0.06 * width)
        box = _patch(contour, 3 * sigma, frame.shape)
        if _empty(box):
            continue
        alpha = _soft_polygon(contour, box, sigma) * strength
        seam = np.stack([lm[eye.contour[0]], *((lm[eye.upper] + lm[eye.lower]) / 2), lm[eye.contour[3]]])
        lash = np.zeros_like(alpha, np.uint8)
        cv2.polylines(lash, [np.round((seam - box[:2]) * 16).astype(np.int32)], False, 255, 1, cv2.LINE_AA, 4)
        lash_alpha = cv2.GaussianBlur(lash.astype(np.float32) / 255.0, (0, 0), 0.5)[..., None]
        _blend(frame, box, lid * (1 - 0.5 * lash_alpha), alpha)


@hookimpl
def facegan_video_reenactors() -> list[Backend]:
    return [Backend("warp", WarpReenactor,
                    "weights-free piecewise-affine warp of the source face to the target landmarks, with mouth "
                    "interior and blinks", options=(
                        Option("mouth_interior", bool, True, "paint teeth and mouth where the target opens the "
                               "mouth wider than the source"),
                        Option("forehead", float, 0.6, "forehead control points above the brows, in brow-to-nose-tip "
                               "lengths", low=0, low_open=True, high=3),
                        Option("margin", float, 0.35, "head ring outside the face contour, in face sizes", low=0,
                               low_open=True, high=3),
                        Option("work_size", int, 256, "the warp map is computed on a grid at most this many pixels "
                               "across the face region and upsampled; the source is sampled at full resolution",
                               low=32),
                    ), capabilities=Capabilities(region=True))]
