"""The shop's catalog: its export parsed (`products`), and the feed that turns an upload into
what serving needs within minutes (`feed`): availability, new arrivals, similar items by
attributes for products no model knows yet, and the live category map."""
