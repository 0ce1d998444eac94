"""The page stages, one module each, in the order a page flows through them:
``canvas`` (a flat white canvas around a turned photo filled with its edge's paper colour)
-> ``sheet`` (a sheet lying on a desk: found, rectified, the desk left out) -> ``binarize``
(grey page -> ink map, mask, scale; with ``shadow``, the paper level follows a hard
shadow's edge) -> ``rules`` (printed rules and grids removed; constants in ``ruleparams``,
pen told from print in ``penprint``, run openings in ``runs``) -> ``orient`` (quarter turns,
judged by the recognizer) -> ``deskew`` -> ``shapes`` (nested outlines taken out as
drawings) -> ``fields`` (printed form frames found and removed from the ink, comb cells cut;
constants in ``fieldparams``; it uses ``segment``'s box and glyph types; ``smallprint`` sets
labels apart to be read at their own scale) -> ``segment`` (package: components -> lines ->
words -> character boxes) -> ``normalize`` (crop -> 32x32 glyph, the one normalization
training uses too) -> ``recognize`` (glyphs -> probabilities -> readings with confusion
flags and word context) -> ``fused`` (touching letters read as "not a character" cut again)
-> ``rejoin`` (a W cut into two Vs joined again)
-> ``doodles`` (drawings read as doubtful outsized characters dropped) -> ``faint`` (marks
far fainter than the writing dropped) -> ``colour`` (short vivid words on a page in a grey or
black pen dropped).

A stage imports only earlier stages' types and ``ocr.model`` (the recognizer that scores
crops); never ``ocr.pipeline``, ``ocr.io``, ``ocr.training`` or ``ocr.synth``.
``ocr.pipeline`` runs them in order.
"""
