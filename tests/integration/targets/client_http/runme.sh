#!/usr/bin/env bash
# The client and the modules over real HTTP, with pytest: test_client_http.py (waits, retries, pages, headers),
# test_hostile_server.py (broken and hostile answers), test_hostile_tls.py (TLS), test_fuzz_http.py (hostile input
# over the wire). Each test starts a SendGrid simulator of its own on 127.0.0.1 on a free port (conftest.py) and stops
# it by its PID. ansible-test passes -v... arguments; they are not needed here.
set -euo pipefail

python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}
# ansible-test puts the collection under test on ANSIBLE_COLLECTIONS_PATH: its first entry holds
# ansible_collections/sendgrid/partners, so `import ansible_collections.sendgrid.partners...` works.
export PYTHONPATH=${ANSIBLE_COLLECTIONS_PATH%%:*}${PYTHONPATH:+:$PYTHONPATH}
junit=()
if [[ -d ${JUNIT_OUTPUT_DIR:-} ]]; then
    junit=(--junit-xml "$JUNIT_OUTPUT_DIR/client_http-pytest.xml")
fi
# Workers as ansible-test units runs them (-n auto): the fuzz tests are the long part.
"$python" -m pytest -c pytest.ini --rootdir . -n auto "${junit[@]}" .
echo "client_http: pytest done in $SECONDS s"
