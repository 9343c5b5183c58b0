"""The one shape of every id the API accepts (user, anonymous visitor, product, event).

Its own module so that serving can validate ids without importing the event models.
"""

from __future__ import annotations

#: Letters, digits and `_ - . :`, 1 to 128 characters (docs/architecture.md, Events).
ID_PATTERN = r"^[A-Za-z0-9_\-.:]{1,128}$"
