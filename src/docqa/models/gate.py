"""Sessions in line for the model: as many answer at once as it has slots, the rest wait their turn."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator

POLL_S = 0.5  # how often a waiting session looks at its place in line again


class Gate:
    """First come, first served: one slot for the in-process model (it answers one prompt at a
    time), a server's parallel slots for a served one."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, slots)
        self._cond = threading.Condition()
        self._line: deque[object] = deque()
        self._busy = 0

    def enter(self) -> Iterator[int]:
        """Wait for a slot, yielding how many sessions are ahead each time that number changes;
        when it ends the caller holds a slot, to give back with `leave`. Closed while waiting (the
        session went away), it leaves the line."""
        me = object()
        admitted = False
        with self._cond:
            self._line.append(me)
        try:
            shown = -1
            while True:
                with self._cond:
                    place = self._line.index(me)
                    if place == 0 and self._busy < self.slots:
                        self._line.popleft()
                        self._busy += 1
                        admitted = True
                        return
                    ahead = place + self._busy - self.slots + 1
                    if ahead == shown:
                        self._cond.wait(POLL_S)
                        continue
                shown = ahead
                yield ahead
        finally:
            if not admitted:
                with self._cond:
                    self._line.remove(me)
                    self._cond.notify_all()

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            self._cond.notify_all()
