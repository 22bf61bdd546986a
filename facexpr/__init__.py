"""facexpr's ground floor: what the detection, keypoint and expression stages and the pipeline all stand on.

Errors, image reading, the crop rule, atomic writes, the data setting, configs, model cards and figures import no
TensorFlow; the training pieces (``training``, ``resnet``, ``modelfile``, ``compiled``) import Keras. Nothing here
imports ``detection``, ``keypoints``, ``expressions`` or ``pipeline``.
"""
