"""Dataset tooling: convert public smoke/fire sets into our YOLO layout, and check YOLO datasets.

Our layout is Ultralytics YOLO: ``images/<split>/*.jpg``, ``labels/<split>/*.txt`` with lines
``class cx cy w h`` (normalised), an empty label file for a negative image, and a ``data.yaml``
whose classes are ``0 = smoke``, ``1 = fire`` for every dataset of the project.
"""
