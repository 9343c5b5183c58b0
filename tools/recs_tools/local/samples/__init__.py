"""Sample events by area; `recs_tools.local.sample_events` collects them into events/."""
