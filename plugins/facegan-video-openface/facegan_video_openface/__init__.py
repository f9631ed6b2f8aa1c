"""OpenFace 2.x (FeatureExtraction) backends for facegan-video: ``--au-backend openface`` and
``--landmarker openface``. The binary is run as a subprocess; its CSV is parsed by column name."""

__version__ = "0.1.0"
