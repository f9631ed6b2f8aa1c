"""Training tasks, one per network the trainer can train (``facegan-video train TASK``)."""
