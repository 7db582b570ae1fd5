"""The simulator of tests/simulator/server.py with a listen backlog of 128, for make bench.

socketserver listens with a backlog of 5. When 20 or 50 clients open their connections at once on a loaded 2-core
machine, the accept loop falls behind, the kernel drops connections past the backlog, and clients see connection
errors or a retransmission delay of a second: that measures the simulator, not the client. A real API front end
accepts far more. Same options as server.py (bench/bench.py starts it through tests/simulator/simctl.py).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "simulator"))

import server  # noqa: E402 (tests/simulator, put on the path above)

server.SimulatorServer.request_queue_size = 128

if __name__ == "__main__":
    sys.exit(server.main())
