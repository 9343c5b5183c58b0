"""Pure domain logic: no boto3, no redis. Adapters reach the outside world through `recs.ports`."""
