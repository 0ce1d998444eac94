"""Making a model: ``datasets`` (loaders and the ``KIND:PATH`` registry), ``split`` (by
writer where known), ``augment``, ``train`` (the loop), ``evaluate``, ``report`` (curves,
weights, confusion matrix, model card) and ``recipe`` (a whole run, shared by
``scanscribe train`` and the retrain task).

Imports ``ocr.model`` and ``ocr.stages.normalize``; never the page pipeline, ``ocr.io`` or
``ocr.synth``.
"""
