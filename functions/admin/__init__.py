"""Lambda handlers (thin): see template.yaml."""
