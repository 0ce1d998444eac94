"""Bytes in, documents and pictures out: safe image decoding (``imageio``), result documents
(``export``: JSON, text, hOCR) and overlay pictures (``overlay``).

May import ``schemas`` and third-party readers/writers; imports nothing else of ``ocr``, so
any stage or tool can use it without pulling in the engine.
"""
