"""RVC Live's model generator: structurally real RVC synthesizers and content encoders with fixed
random weights, and ONNX exports of the real pretrained pitch models that PyPI packages ship.
Entry points: models/generate_models.py and models/check_models.py."""
