"""Privacy in training: who is left out of a run (opt-outs, erasure tombstones), and erased
visitors scrubbed out of stored artifacts."""
