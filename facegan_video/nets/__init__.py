"""Tensor-only networks of FACEGAN and the face-crop geometry they are trained in.

Modules here never open files and never pick devices: callers load checkpoints with
``facegan_video.checkpoint`` and move modules where they run. ``ibug`` and ``crop`` are numpy-only,
so dataset preparation and readers import them without torch.
"""
