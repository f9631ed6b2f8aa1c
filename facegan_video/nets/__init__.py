"""Tensor-only networks of FACEGAN and the face-crop geometry they are trained in.

Modules here never open files and never pick devices: callers load checkpoints with
``facegan_video.checkpoint`` and move modules where they run. ``crop`` needs only numpy and OpenCV,
so dataset preparation and readers import it without torch.
"""
