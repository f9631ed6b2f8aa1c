"""`facegan-video ui`: a local Gradio web app (the optional ``ui`` extra) for AU editing, reenactment
and analysis.

Only :mod:`facegan_video.ui.plugin` is imported with the registry; it imports Gradio when the
command runs, so the rest of the project works without the extra.
"""
