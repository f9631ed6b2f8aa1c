"""``python -m facegan_video.testing [STAGE]``."""

from facegan_video.testing.runner import main

raise SystemExit(main())
