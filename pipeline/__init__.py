"""The pipeline: face detection, the crop rule, and what ties the keypoint and expression stages together."""
