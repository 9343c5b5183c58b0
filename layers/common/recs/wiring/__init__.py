"""Composition roots: settings in, services wired to their adapters out.

Only `recs.wiring` and `recs.adapters` know which concrete stores back the ports. One module per
function, so that a function imports only what it wires (cold starts stay small).
"""
