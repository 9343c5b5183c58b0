"""This process's resident memory as Linux reports it, for the measuring tools and benchmarks:
a ``/proc/self/status`` figure, and its peak started over so that a later peak is one piece of
work's own."""

from __future__ import annotations


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB (``VmRSS``, ``VmHWM``)."""
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak_rss() -> int:
    """Start the peak (``VmHWM``) over from now, so that a later peak is the measured work's own;
    returns the RSS now, in KiB, to measure it above."""
    before = status_kib("VmRSS")
    # Writing 5 to clear_refs resets VmHWM (Linux >= 4.0).
    with open("/proc/self/clear_refs", "w", encoding="utf-8") as clear:
        clear.write("5")
    return before
