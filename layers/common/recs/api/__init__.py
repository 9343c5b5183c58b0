"""HTTP glue shared by the API handlers (Powertools Event Handler)."""
