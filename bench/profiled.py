"""Run ``python -m bot`` under cProfile on CPU time: ``python -m bench.profiled OUT [ARGS]``.

``python -m cProfile`` times functions on the wall clock, so a busy machine's waits (the
event loop's epoll, a socket send while another process holds the core) would rank as
costs; here every function is timed on this process's CPU time.
"""

from __future__ import annotations

import cProfile
import runpy
import sys
import time


def main() -> None:
    out = sys.argv[1]
    sys.argv = ["bot", *sys.argv[2:]]
    profiler = cProfile.Profile(time.process_time)
    try:
        profiler.runcall(runpy.run_module, "bot", run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.dump_stats(out)


if __name__ == "__main__":
    main()
