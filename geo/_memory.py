"""Memory the stages hand back, and large arrays served from glibc's heap.

:func:`release_memory` after a stage that frees gigabytes (a surface's joins and ranking);
:func:`reused_heap` around loops that make and free large arrays (the grid screens, the
joins, the costs, a portfolio's walk). Both do nothing off Linux/glibc.
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
import threading
from collections.abc import Iterator

__all__ = ["release_memory", "reused_heap"]


def release_memory() -> None:
    """Hand the memory freed by a stage back to the system (glibc's ``malloc_trim``).

    A surface's stages free gigabytes of numpy arrays and Python strings at once; glibc
    keeps the freed pages of its heap for reuse, so the process would stay at its largest
    size and the next stage would grow beyond it instead of into it (measured on the US at
    H3 res 7: 0.4 of every 0.6 GB freed by the ranking stayed resident). Elsewhere (macOS,
    musl, Windows) there is no such call and nothing is done. Arrow's pool (the reasons'
    and the text columns' buffers) is asked to hand back what it keeps free, where pyarrow
    is loaded, on every platform.
    """
    arrow = sys.modules.get("pyarrow")
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)


#: glibc's ``mallopt`` parameters (malloc.h) and the values :func:`reused_heap` leaves: the
#: ceiling glibc's own dynamic threshold reaches (32 MiB on 64-bit) and twice it for trimming.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_MMAP_MAX_DEFAULT, _MMAP_THRESHOLD_AFTER = 65536, 32 << 20


#: Whether the main thread is in :func:`reused_heap` (only the outermost one acts).
_IN_REUSED_HEAP = [False]


@contextlib.contextmanager
def reused_heap() -> Iterator[None]:
    """Serve large numpy arrays from glibc's heap, and keep freed ones there, while inside.

    glibc gives every block above its mmap threshold (at most 32 MiB) its own mapping and
    unmaps it when freed, so a loop that makes and frees arrays of 50-100 MB (the grid
    screen's m x 256 batches on the TAMU grid) pays a page fault per 4 KiB each time: on the
    2-core machine that was 248 of 550 CPU s of a TAMU build, all system time. Inside, no
    mappings are made (``M_MMAP_MAX = 0``) and the heap is not trimmed, so a freed block is
    reused by the next one. On leaving, mappings are allowed again above 32 MiB, and the
    free memory is handed back (:func:`release_memory`). Only the main thread's arena
    takes heap blocks, so elsewhere (another thread, not Linux, not glibc) nothing changes.
    Nested in another (a portfolio's walk around its hosting runs), it leaves the settings
    and the heap to the outer one: freed blocks stay for the next run.
    """
    main = threading.current_thread() is threading.main_thread()
    if _IN_REUSED_HEAP[0] or not main:   # an outer one sets and restores glibc's settings
        yield
        return
    libc = None
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):   # not glibc
            libc = ctypes.CDLL("libc.so.6")
            if not (libc.mallopt(_M_MMAP_MAX, 0)
                    and libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(2**31 - 1))):
                libc = None
    _IN_REUSED_HEAP[0] = True
    try:
        yield
    finally:
        _IN_REUSED_HEAP[0] = False
        if libc is not None:
            libc.mallopt(_M_MMAP_MAX, _MMAP_MAX_DEFAULT)
            libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_AFTER)
            libc.mallopt(_M_TRIM_THRESHOLD, 2 * _MMAP_THRESHOLD_AFTER)
            libc.malloc_trim(0)
