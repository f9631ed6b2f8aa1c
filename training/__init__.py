"""Scripts that fit or train the models facegan-video ships."""
