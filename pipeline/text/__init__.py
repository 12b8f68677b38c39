"""Script and text facts every stage shares: what is Han/CJK, and inline normalisation.

``script`` is the one definition of Han and CJK characters (language recognition, the
language filter, sentence splitting and line joining all ask it); ``normalize`` turns
converted text (markup, invisible characters, footnote markers) into clean sentence text.
``segment`` splits documents into sentences.
"""
