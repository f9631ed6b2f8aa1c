"""Face analysis: detection, tracking, landmarks, AUs and head pose, temporal smoothing."""
