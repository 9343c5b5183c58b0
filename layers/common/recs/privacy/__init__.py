"""Privacy: preferences (opt-out), erasure, status (issue 7)."""
