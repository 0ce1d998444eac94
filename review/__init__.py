"""``scanscribe review``: a web application in which a person decides the characters the
recognizer doubted, and every decision becomes a corrected result and a labelled crop."""
