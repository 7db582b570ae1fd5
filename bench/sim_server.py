"""The simulator of tests/simulator/server.py for make bench: a listen backlog of 128 and TCP_NODELAY.

socketserver listens with a backlog of 5. When 20 or 50 clients open their connections at once on a loaded 2-core
machine, the accept loop falls behind, the kernel drops connections past the backlog, and clients see connection
errors or a retransmission delay of a second. And without TCP_NODELAY, an answer on a kept-alive connection waits for
the client's delayed ACK (about 40 ms: Nagle's algorithm holds the body until the headers sent just before are
acknowledged), which slows the clients that keep connections alive (the role, the thread pools) and not the uri task,
which opens a connection per request. Both would measure the simulator, not the client; a real API front end has
neither. Same options as server.py (bench/bench.py starts it through tests/simulator/simctl.py).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "simulator"))

import server  # noqa: E402 (tests/simulator, put on the path above)

server.SimulatorServer.request_queue_size = 128
server.SimulatorHandler.disable_nagle_algorithm = True  # socketserver.StreamRequestHandler: TCP_NODELAY per connection

if __name__ == "__main__":
    sys.exit(server.main())
