"""Event ingestion: validate, scrub, pseudonymize, deliver (issue 3)."""
