"""Contract test: every answer of the simulator must match SendGrid's OpenAPI description.

The spec is <repo>/../shared/api/tsg_ip_provisioning_v3.yaml, or $SENDGRID_OPENAPI_SPEC.
openapi-core validates each answer (status documented, media type, body schema, ipv4 formats,
region enums); on top of that no answer may carry a property the spec does not declare, since the
spec itself allows extra properties and so would not see a renamed optional field such as pages.last.
The 429 answer is not in the spec: its body is checked against the shape the API README states.
"""

import json
import os

import jsonschema
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.exceptions import OpenAPIError
from openapi_core.testing import MockRequest, MockResponse

from conftest import API_KEY
from simctl import account_path

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPEC_PATH = os.environ.get("SENDGRID_OPENAPI_SPEC") or os.path.join(
    REPO_ROOT, "..", "shared", "api", "tsg_ip_provisioning_v3.yaml")
SPEC_PATH_TEMPLATE = "/v3/partners/accounts/{accountID}/ips"
SERVER_URL = "https://api.sendgrid.com"  # a server of the spec: requests are matched against it
ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"
FOREIGN_IP = "203.0.113.7"

# The README's 429 body: {"errors":[{"field":null,"message":"too many requests"}]}
RATE_LIMITED_SCHEMA = {
    "type": "object", "required": ["errors"], "additionalProperties": False,
    "properties": {"errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["field", "message"], "additionalProperties": False,
        "properties": {"field": {"type": "null"}, "message": {"type": "string"}}}}},
}


@pytest.fixture(scope="module")
def spec_document():
    if not os.path.exists(SPEC_PATH):
        pytest.fail("OpenAPI spec not found at %s (set SENDGRID_OPENAPI_SPEC)" % SPEC_PATH)
    with open(SPEC_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def openapi():
    return OpenAPI.from_file_path(SPEC_PATH)


def seeded(sim):
    sim.reset({ACCOUNT: {"generate": {"us": 3, "eu": 2}}, "empty": {}, "other": {"ips": [{"ip": FOREIGN_IP, "region": "eu"}]}})


def first_ip(sim):
    return sim.accounts()[ACCOUNT][0]["ip"]


# (name, method, account, query, body, options) -> the answer to validate.
# options: raw (bytes body), key (API key), faults, spec_valid_request (default True), status (expected).
SCENARIOS = [
    ("list", "GET", ACCOUNT, {"limit": 2}, None, {"status": 200}),
    ("list second page", "GET", ACCOUNT, {"limit": 5000, "offset": "first-ip"}, None, {"status": 200}),
    ("list empty account", "GET", "empty", None, None, {"status": 200}),
    ("list bad limit", "GET", ACCOUNT, {"limit": 0}, None, {"status": 400, "spec_valid_request": False}),
    ("list bad offset", "GET", ACCOUNT, {"offset": "x"}, None, {"status": 400, "spec_valid_request": False}),
    ("list wrong key", "GET", ACCOUNT, None, None, {"status": 401, "key": "wrong"}),
    ("list unknown account", "GET", "nobody", None, None, {"status": 404}),
    ("list fault 403", "GET", ACCOUNT, None, None, {"status": 403, "faults": [{"action": "error", "status": 403}]}),
    ("list fault 500", "GET", ACCOUNT, None, None, {"status": 500, "faults": [{"action": "error"}]}),
    ("list fault 502", "GET", ACCOUNT, None, None, {"status": 502, "faults": [{"action": "error", "status": 502}]}),
    ("list slow", "GET", ACCOUNT, None, None, {"status": 200, "faults": [{"action": "slow", "delay": 0.05}]}),
    ("add", "POST", ACCOUNT, None, {"count": 2, "region": "eu"}, {"status": 201}),
    ("add count 11", "POST", ACCOUNT, None, {"count": 11, "region": "us"}, {"status": 400, "spec_valid_request": False}),
    ("add count string", "POST", ACCOUNT, None, {"count": "2", "region": "us"}, {"status": 400, "spec_valid_request": False}),
    ("add no region", "POST", ACCOUNT, None, {"count": 1}, {"status": 400, "spec_valid_request": False}),
    ("add bad json", "POST", ACCOUNT, None, None, {"status": 400, "raw": b"{", "spec_valid_request": False}),
    ("add wrong key", "POST", ACCOUNT, None, {"count": 1, "region": "us"}, {"status": 401, "key": "wrong"}),
    ("add unknown account", "POST", "nobody", None, {"count": 1, "region": "us"}, {"status": 404}),
    ("add fault 503", "POST", ACCOUNT, None, {"count": 1, "region": "us"},
     {"status": 503, "faults": [{"action": "error", "status": 503}]}),
    ("add committed 504", "POST", ACCOUNT, None, {"count": 1, "region": "us"},
     {"status": 504, "faults": [{"action": "error", "status": 504, "commit": True}]}),
    ("add slow committed", "POST", ACCOUNT, None, {"count": 1, "region": "us"},
     {"status": 201, "faults": [{"action": "slow", "delay": 0.05, "commit": True}]}),
    ("remove", "DELETE", ACCOUNT, None, {"ips": ["first-ip"]}, {"status": 204}),
    ("remove ip of another account", "DELETE", ACCOUNT, None, {"ips": [FOREIGN_IP]}, {"status": 400}),
    ("remove empty list", "DELETE", ACCOUNT, None, {"ips": []}, {"status": 400, "spec_valid_request": False}),
    ("remove wrong key", "DELETE", ACCOUNT, None, {"ips": ["first-ip"]}, {"status": 401, "key": "wrong"}),
    ("remove unknown account", "DELETE", "nobody", None, {"ips": [FOREIGN_IP]}, {"status": 404}),
    ("remove fault 500 committed", "DELETE", ACCOUNT, None, {"ips": ["first-ip"]},
     {"status": 500, "faults": [{"action": "error", "commit": True}]}),
]


def with_first_ip(value, ip):
    """Replace the placeholder "first-ip" (the account's newest IP, known only at run time)."""
    if isinstance(value, dict):
        return {key: with_first_ip(item, ip) for key, item in value.items()}
    if isinstance(value, list):
        return [with_first_ip(item, ip) for item in value]
    return ip if value == "first-ip" else value


def as_mock_pair(method, account_id, query, raw_body, key, answer):
    request = MockRequest(SERVER_URL, method, account_path(account_id), args=query,
                          headers={"Authorization": "Bearer %s" % key}, data=raw_body)
    response = MockResponse(answer.body, answer.status, headers=dict(answer.headers),
                            content_type=answer.headers.get("Content-Type"))
    return request, response


def resolve_pointer(document, reference):
    node = document
    for part in reference.lstrip("#/").split("/"):
        node = node[part]
    return node


def undeclared_properties(spec, value, schema, where="$"):
    """Paths of properties in `value` that `schema` (or its sub-schemas) does not declare."""
    if isinstance(schema, dict) and "$ref" in schema:
        schema = resolve_pointer(spec, schema["$ref"])
    found = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key in schema["properties"]:
                found += undeclared_properties(spec, item, schema["properties"][key], "%s.%s" % (where, key))
            else:
                found.append("%s.%s" % (where, key))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += undeclared_properties(spec, item, schema["items"], "%s[%d]" % (where, index))
    return found


def response_schema(spec, method, status):
    response = spec["paths"][SPEC_PATH_TEMPLATE][method.lower()]["responses"][str(status)]
    if "$ref" in response:
        response = resolve_pointer(spec, response["$ref"])
    return response.get("content", {}).get("application/json", {}).get("schema")


@pytest.mark.parametrize("name, method, account_id, query, body, options", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_answer_matches_the_openapi_contract(sim, openapi, spec_document, name, method, account_id, query, body, options):
    seeded(sim)
    ip = first_ip(sim)
    query, body = with_first_ip(query, ip), with_first_ip(body, ip)
    raw_body = options.get("raw", json.dumps(body).encode("utf-8") if body is not None else None)
    key = options.get("key", API_KEY)
    if options.get("faults"):
        sim.faults(options["faults"])

    answer = sim.call(method, account_id, api_key=key, query=query, raw_body=raw_body)
    assert answer.status == options["status"], answer.body

    request, response = as_mock_pair(method, account_id, query, raw_body, key, answer)
    if options.get("spec_valid_request", True):
        openapi.validate_request(request)  # the scenario itself is in contract
    else:
        with pytest.raises(OpenAPIError):
            openapi.validate_request(request)
    openapi.validate_response(request, response)  # documented status, media type and body schema
    schema = response_schema(spec_document, method, answer.status)
    if schema is None:  # e.g. 204: the spec declares no content at all
        assert answer.body == b"" and "Content-Type" not in answer.headers
    else:
        assert undeclared_properties(spec_document, answer.json(), schema) == []


@pytest.mark.parametrize("method, body", [
    ("GET", None), ("POST", {"count": 1, "region": "us"}), ("DELETE", {"ips": [FOREIGN_IP]})])
def test_rate_limited_answer_has_the_documented_429_shape(sim, method, body):
    seeded(sim)
    sim.faults([{"action": "rate_limit"}])
    answer = sim.call(method, ACCOUNT, body=body)
    assert answer.status == 429
    assert answer.headers["Content-Type"] == "application/json"
    jsonschema.validate(answer.json(), RATE_LIMITED_SCHEMA)
    assert answer.json()["errors"][0]["message"] == "too many requests"
    assert answer.headers["X-RateLimit-Remaining"] == "0" and int(answer.headers["X-RateLimit-Reset"]) > 0
