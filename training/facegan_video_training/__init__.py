"""Dataset preparation and training for facegan-video's FACEGAN networks.

``facegan-video prepare`` turns talking-head videos into a folder of face-crop tracks
(``dataset``: its format and a numpy-only reader); ``facegan-video train TASK`` trains a network on
it with the generic ``trainer`` (single process, or data-parallel under ``torchrun``).
"""
