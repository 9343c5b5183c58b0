"""One validated settings model per function (see each module).

Every value comes from the function's environment, set in template.yaml (or by the local stack
from the same template). Required settings have no defaults: a function with a missing or
malformed setting fails at start-up with a message naming the variable instead of running on a
silent guess. Tuning knobs with a product default say so in their description.
"""
