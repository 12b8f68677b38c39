"""Build English-Chinese parallel corpora from United Nations resolutions."""

__version__ = "0.1.0"
