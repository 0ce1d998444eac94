"""The network and a model directory on disk: ``classes`` (the 36 labels and confusable
pairs), ``mlp`` (the NumPy MLP: layers, init, backprop), ``optim`` (SGD, Adam, schedules),
``store`` (``model.npz`` + ``manifest.json``, sha256-checked, no pickle; :class:`Recognizer`).

Imports ``ocr.stages.normalize`` (the glyph format the network reads) and ``schemas``;
nothing else of ``ocr``.
"""
