"""The stages of the study, one module each (`python -m stages.<stage>`), each a thin entry point.

Every stage ends with `stages.run(main)`, which records the stage's wall time and
peak memory (resident set size) in logs/resources/<stage and arguments>.json when
it exits. That folder is not a DVC output and no stage reads it;
benchmarks/benchmark.py reports it. Importing a stage (as the tests do) records nothing.
"""

import json
import os
import re
import resource
import sys
import time


def run(main):
    """Runs a stage's main() and records its resources, whether it ends well or is refused."""
    started = time.time()
    try:
        main()
    finally:
        _record_resources(started)


def _record_resources(started):
    script = os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    stage = " ".join([os.path.splitext(os.path.basename(script))[0], *sys.argv[1:]])
    record = {
        "stage": stage,
        "wall_s": round(time.time() - started, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        os.makedirs(os.path.join("logs", "resources"), exist_ok=True)
        with open(
            os.path.join("logs", "resources", re.sub(r"[^\w.-]+", "_", stage) + ".json"), "w"
        ) as stream:
            json.dump(record, stream)
    except OSError:
        pass  # a measurement, never a reason to fail a stage
