"""facegan-video: animate and edit faces through Facial Action Units (FACEGAN, WACV 2021)."""

__version__ = "0.1.0"
