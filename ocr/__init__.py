"""The scanscribe engine: pure NumPy, SciPy, scikit-image and Pillow (no Celery, no boto3).

Top level: ``pipeline`` (one page through every stage, :class:`PageContext` timing them),
``results`` (readings to characters, words, lines and comb cells in original pixels),
``forms`` (fields as data: characters assigned to form fields, labels, templates),
``batch`` (the batch core: output names, outcomes, the local writer), ``localpool`` (the
``--jobs`` process pool), ``cli`` (the local commands), ``datapath`` (where the
development data lives), ``textdist`` (CER). Packages by role: ``io`` (bytes in, documents
and pictures out), ``stages`` (one module per page stage), ``model`` (the network and a model
directory), ``training`` (data, training runs, reports), ``synth`` (synthetic pages with
truth). Each package's docstring says what it may import; ``tests/test_layout.py`` checks it.
"""
