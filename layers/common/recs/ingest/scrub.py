"""Free text that looks like contact data is removed before it can reach the lake.

Shoppers type all sorts into a search box, and frontends put whatever they have into
`category` or `context`. Anything shaped like an e-mail address, a phone number (or any run of
seven or more digits, which also covers card and account numbers) or an IP address (IPv4, or
IPv6 in its full or ``::``-compressed form) is replaced by ``[pii]``. Names and postal
addresses cannot be recognised reliably in free text; they are kept out of the lake by dropping
every field the event schema does not know.
"""

from __future__ import annotations

import re
from functools import lru_cache

REDACTED = "[pii]"

_PII = re.compile(
    "|".join(
        (
            # e-mail: local@domain.tld (also with spaces around the @, as typed on phones). The
            # lookbehind starts a match only where a local part starts: linear time, no ReDoS.
            r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+\s?@\s?[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
            # IPv6: eight groups, or fewer around one "::"; bounded repeats (no ReDoS), a whole run
            # of hex digits and colons of six characters at least (so never "10:30" or "a::b")
            r"(?<![0-9A-Fa-f:])(?=[0-9A-Fa-f:]{6,}(?![0-9A-Fa-f:]))"
            r"(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}"
            r"|(?:[0-9A-Fa-f]{1,4}:){1,7}:(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?"
            r"|::[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})(?![0-9A-Fa-f:])",
            # IPv4 dotted quad
            r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])",
            # phone-like: 7+ digits, optionally led by + and grouped by spaces, dots, dashes, parentheses
            r"(?<!\w)\+?\(?\d(?:[\s().\-/]{0,2}\d){6,}",
        )
    )
)


@lru_cache(maxsize=16_384)
def scrub_text(text: str) -> str:
    """`text` with every e-mail address, phone-like number and IP address replaced by ``[pii]``.

    The replacement is never longer than what it replaces (the shortest match is 6 characters),
    so a scrubbed value still fits its field's length limit. Results are memoized: categories,
    contexts and popular queries repeat across events.

    Parameters
    ----------
    text
        Free text from an event.

    Returns
    -------
    str
        The text with contact data replaced; otherwise unchanged.
    """
    return _PII.sub(REDACTED, text)
