"""What a row of the corpus is and where it goes: rows, filters, writers, manifest, report."""
