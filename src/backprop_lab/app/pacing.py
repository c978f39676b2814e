"""How often the GUI may draw snapshots, so the worker keeps its share.

Both threads run Python, so time the GUI thread spends drawing is time the
training worker waits for the interpreter. The time the last snapshot took
(updates and painting) sets how soon the next one is taken: the GUI draws for
at most about DUTY of the time; the worker merges what comes meanwhile.
"""

# the share of the GUI thread's time that drawing snapshots may take
DUTY = 0.3
# the longest pause between two snapshots the pacing may ask for (seconds)
MAX_HOLD = 0.5


def hold_for(busy_seconds: float) -> float:
    """How long to wait before the next snapshot after `busy_seconds` of work."""
    return min(busy_seconds * (1.0 - DUTY) / DUTY, MAX_HOLD)
