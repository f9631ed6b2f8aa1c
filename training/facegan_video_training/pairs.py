"""Image pairs for the image networks: a source frame and a driving frame of one face track, seen
through the driving frame's crop.

Every crop of a track maps the same video frame (``crop.npy``: crop pixel = s * video pixel + t),
so the source crop is resampled into the driving crop with one scale and shift: background pixels
then sit where the ground truth has them (talking-head cameras hold still), as at inference, where
the source frame is cropped where the target face will be. A sample holds, at the asked size:
the source in the target crop, its labels there, its landmarks there, the driving frame (ground
truth), its labels and landmarks, and (for the warp variant of G_r) the weights-free warp of the
source to the driving landmarks. Mirroring flips every image and mirrors the landmarks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from facegan_video.ibug import mirror_points
from facegan_video.reenact.warp import WarpReenactor
from facegan_video_training.dataset import FaceDataset, Track, sample_partners


@dataclass
class PairBatch:
    """A batch of pairs, numpy, channels last; images uint8, labels uint8 (0 bg, 1 face, 2 hair)."""

    source: np.ndarray  # (B, S, S, 3) the source frame in the driving frame's crop
    source_seg: np.ndarray  # (B, S, S)
    source_landmarks: np.ndarray  # (B, 68, 2) crop pixels at S
    target: np.ndarray  # (B, S, S, 3) the driving frame: the ground truth
    target_seg: np.ndarray  # (B, S, S)
    target_landmarks: np.ndarray  # (B, 68, 2)
    warped: np.ndarray | None  # (B, S, S, 3) the source warped to the driving landmarks


def crop_to_crop(source: np.ndarray, target: np.ndarray, scale: float) -> np.ndarray:
    """2x3 matrix from source-crop to target-crop pixels of one video, both crops ``(s, tx, ty)`` in
    pixels of the dataset's crop size, at a size ``scale`` times that."""
    k = target[0] / source[0]
    return np.array([[k, 0, (target[1] - k * source[1]) * scale], [0, k, (target[2] - k * source[2]) * scale]])


class ImagePairs:
    """The frames of one split as (track, frame) numbers, with pair sampling within tracks."""

    def __init__(self, dataset: FaceDataset, split: str, warp: bool) -> None:
        self.dataset = dataset
        self.tracks: list[Track] = [dataset.track(t) for t in dataset.select(split)]
        lengths = np.array([t.info.length for t in self.tracks], np.int64)
        self.owner = np.repeat(np.arange(len(self.tracks)), lengths)
        self.first = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        self.crops = [np.asarray(t.crop, np.float64) for t in self.tracks]
        self.warp = warp

    def __len__(self) -> int:
        return len(self.owner)

    def partners(self, indices: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return sample_partners(self.owner, rng, indices)

    def batch(self, sources: np.ndarray, targets: np.ndarray, size: int, flip: np.ndarray | None = None
              ) -> PairBatch:
        """Pairs (sources[k], targets[k]) (frame numbers of one track each) at ``size`` pixels."""
        rows = [self._pair(int(i), int(j), size, bool(flip[k]) if flip is not None else False)
                for k, (i, j) in enumerate(zip(sources, targets))]
        stack = [np.stack(c) for c in zip(*rows)]
        return PairBatch(*stack[:6], stack[6] if self.warp else None)

    def _pair(self, i: int, j: int, size: int, flip: bool) -> tuple[np.ndarray, ...]:
        t = int(self.owner[i])
        if self.owner[j] != t:
            raise ValueError(f"frames {i} and {j} are of different tracks")
        track, fi, fj = self.tracks[t], i - int(self.first[t]), j - int(self.first[t])
        src, tgt = track.sample(fi, size), track.sample(fj, size)
        m = crop_to_crop(self.crops[t][fi], self.crops[t][fj], size / track.size)
        image = cv2.warpAffine(src.image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        seg = cv2.warpAffine(src.seg, m, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
        lm = (src.landmarks @ m[:, :2].T + m[:, 2]).astype(np.float32)
        out = [image, seg, lm, tgt.image, tgt.seg, tgt.landmarks]
        if flip:
            for k in (0, 1, 3, 4):
                out[k] = np.ascontiguousarray(out[k][:, ::-1])
            out[2], out[5] = (mirror_points(p, size) for p in (out[2], out[5]))
        if self.warp:
            out.append(WarpReenactor(work_size=size).reenact(out[0], out[2], out[5][None])[0])
        else:
            out.append(np.zeros((0,), np.uint8))
        return tuple(out)
