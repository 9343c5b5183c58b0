"""Publish: a version's artifacts, the model-table rows it writes, the write side of the model
table (META, pointer), and the scrubbing of erased visitors out of stored artifacts."""
