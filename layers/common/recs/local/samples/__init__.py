"""Sample events by area; `recs.local.sample_events` collects them into events/."""
