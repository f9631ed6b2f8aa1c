"""Speed benchmarks of facegan-video; run them as modules, e.g. ``python -m benchmarks.bench_extract``."""
