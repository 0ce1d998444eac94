"""Bytes in, documents and pictures out: safe image decoding (``imageio``), result documents
(``export``: JSON, text, hOCR), overlay pictures (``overlay``) and the form fields of a batch
as a CSV table (``fieldtable``).

May import ``schemas`` and third-party readers/writers; imports nothing else of ``ocr``, so
any stage or tool can use it without pulling in the engine.
"""
