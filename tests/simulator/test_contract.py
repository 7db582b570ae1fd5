"""Contract test: every answer of the simulator must match SendGrid's OpenAPI descriptions.

The specs are SendGrid's own files, vendored unchanged in tests/simulator/openapi/ (see its README):
tsg_ip_provisioning_v3.yaml (or $SENDGRID_OPENAPI_SPEC) for the IP operations and
tsg_account_provisioning_v3.yaml (or $SENDGRID_ACCOUNT_OPENAPI_SPEC) for ListAccount, GetAccountState and
ListAccountOffering. openapi-core validates each answer (status documented, media type, body schema, ipv4 and
date-time formats, enums); on top of that no answer may carry a property the spec does not declare, since the
spec itself allows extra properties and so would not see a renamed optional field such as pages.last. The one
allowance: the properties that the spec's own ListAccount example shows on an account (email, updated_at).
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
from simctl import api_path

OPENAPI_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openapi")
SPEC_PATHS = {
    "ip": os.environ.get("SENDGRID_OPENAPI_SPEC") or os.path.join(OPENAPI_DIR, "tsg_ip_provisioning_v3.yaml"),
    "account": os.environ.get("SENDGRID_ACCOUNT_OPENAPI_SPEC") or os.path.join(OPENAPI_DIR, "tsg_account_provisioning_v3.yaml"),
}
SPEC_PATH = SPEC_PATHS["ip"]
SPEC_PATH_TEMPLATE = "/v3/partners/accounts/{accountID}/ips"
# resource (as simctl.api_path names it) -> (which spec, its path template)
RESOURCES = {
    "ips": ("ip", SPEC_PATH_TEMPLATE),
    "accounts": ("account", "/v3/partners/accounts"),
    "state": ("account", "/v3/partners/accounts/{accountID}/state"),
    "offerings": ("account", "/v3/partners/accounts/{accountID}/offerings"),
}
SERVER_URL = "https://api.sendgrid.com"  # a server of the spec: requests are matched against it
ACCOUNT = "sg1a2bcd3ef4ab5c67d8efab91c01de2fa"
FOREIGN_IP = "203.0.113.7"
ACCOUNT_SCHEMA_REF = "#/components/schemas/AccountProvisioningAccount"

# The README's 429 body: {"errors":[{"field":null,"message":"too many requests"}]}
RATE_LIMITED_SCHEMA = {
    "type": "object", "required": ["errors"], "additionalProperties": False,
    "properties": {"errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["field", "message"], "additionalProperties": False,
        "properties": {"field": {"type": "null"}, "message": {"type": "string"}}}}},
}


def check_spec_path(name):
    path = SPEC_PATHS[name]
    if not os.path.exists(path):
        variable = "SENDGRID_OPENAPI_SPEC" if name == "ip" else "SENDGRID_ACCOUNT_OPENAPI_SPEC"
        pytest.fail("OpenAPI spec not found at %s (set %s)" % (path, variable))
    return path


@pytest.fixture(scope="module")
def spec_documents():
    documents = {}
    for name in SPEC_PATHS:
        with open(check_spec_path(name), encoding="utf-8") as handle:
            documents[name] = yaml.safe_load(handle)
    return documents


@pytest.fixture(scope="module")
def spec_document(spec_documents):
    return spec_documents["ip"]


@pytest.fixture(scope="module")
def openapis():
    return {name: OpenAPI.from_file_path(check_spec_path(name)) for name in SPEC_PATHS}


@pytest.fixture(scope="module")
def openapi(openapis):
    return openapis["ip"]


def seeded(sim):
    sim.reset({
        ACCOUNT: {"generate": {"us": 3, "eu": 2}, "email": "test@test.com", "created_at": "2006-01-02T15:04:05Z",
                  "updated_at": "2009-01-02T15:04:05Z", "state": "suspended",
                  "offerings": [{"name": "org.ei.free.v1", "type": "package", "quantity": 1},
                                {"name": "org.dedicated_ip.v1", "type": "addon", "quantity": 2}, {"name": "ease", "type": "addon"}]},
        "empty": {"offerings": []},
        "other": {"ips": [{"ip": FOREIGN_IP, "region": "eu"}], "email": "{{ lookup('pipe', 'id') }}@example.com"},
    })


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
    # The Account Provisioning API: ListAccount ("accounts"), GetAccountState ("state"), ListAccountOffering ("offerings")
    ("accounts list", "GET", None, {"limit": 2}, None, {"status": 200, "resource": "accounts"}),
    ("accounts list default limit", "GET", None, None, None, {"status": 200, "resource": "accounts"}),
    ("accounts list second page", "GET", None, {"limit": 1, "offset": ACCOUNT}, None, {"status": 200, "resource": "accounts"}),
    ("accounts list after the last", "GET", None, {"limit": 100, "offset": "other"}, None, {"status": 200, "resource": "accounts"}),
    ("accounts list empty", "GET", None, None, None, {"status": 200, "resource": "accounts", "accounts": {}}),
    ("accounts list limit 101", "GET", None, {"limit": 101}, None,
     {"status": 400, "resource": "accounts", "spec_valid_request": False}),
    ("accounts list wrong key", "GET", None, None, None, {"status": 401, "resource": "accounts", "key": "wrong"}),
    ("accounts list fault 503", "GET", None, None, None,
     {"status": 503, "resource": "accounts", "faults": [{"action": "error", "status": 503}]}),
    ("accounts list without pages", "GET", None, {"limit": 2}, None,
     {"status": 200, "resource": "accounts", "faults": [{"action": "mangle", "mode": "no_pages"}]}),
    ("accounts list overlapping pages", "GET", None, {"limit": 2, "offset": ACCOUNT}, None,
     {"status": 200, "resource": "accounts", "faults": [{"action": "mangle", "mode": "overlap_pages"}]}),
    ("state", "GET", ACCOUNT, None, None, {"status": 200, "resource": "state"}),
    ("state default", "GET", "empty", None, None, {"status": 200, "resource": "state"}),
    ("state unknown account", "GET", "nobody", None, None, {"status": 404, "resource": "state"}),
    ("state wrong key", "GET", ACCOUNT, None, None, {"status": 401, "resource": "state", "key": "wrong"}),
    ("state fault 500", "GET", ACCOUNT, None, None,
     {"status": 500, "resource": "state", "faults": [{"match": {"operation": "GetAccountState"}, "action": "error"}]}),
    ("offerings", "GET", ACCOUNT, None, None, {"status": 200, "resource": "offerings"}),
    ("offerings none", "GET", "empty", None, None, {"status": 200, "resource": "offerings"}),
    ("offerings unknown account", "GET", "nobody", None, None, {"status": 404, "resource": "offerings"}),
    ("offerings fault 504", "GET", ACCOUNT, None, None,
     {"status": 504, "resource": "offerings", "faults": [{"action": "error", "status": 504}]}),
]


def with_first_ip(value, ip):
    """Replace the placeholder "first-ip" (the account's newest IP, known only at run time)."""
    if isinstance(value, dict):
        return {key: with_first_ip(item, ip) for key, item in value.items()}
    if isinstance(value, list):
        return [with_first_ip(item, ip) for item in value]
    return ip if value == "first-ip" else value


def as_mock_pair(method, account_id, query, raw_body, key, answer, resource="ips"):
    request = MockRequest(SERVER_URL, method, api_path(resource, account_id), args=query,
                          headers={"Authorization": "Bearer %s" % key}, data=raw_body)
    response = MockResponse(answer.body, answer.status, headers=dict(answer.headers),
                            content_type=answer.headers.get("Content-Type"))
    return request, response


def resolve_pointer(document, reference):
    node = document
    for part in reference.lstrip("#/").split("/"):
        node = node[part]
    return node


def example_account_properties(spec):
    """The properties an account has in the spec's own ListAccount example (id, email, created_at, updated_at)."""
    example = spec["paths"]["/v3/partners/accounts"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    return {key for account in example["accounts"] for key in account}


def undeclared_properties(spec, value, schema, where="$", allowed=None):
    """Paths of properties in `value` that `schema` (or its sub-schemas) does not declare.

    allowed: {schema $ref: property names also accepted there}.
    """
    extra = set()
    if isinstance(schema, dict) and "$ref" in schema:
        extra = (allowed or {}).get(schema["$ref"], set())
        schema = resolve_pointer(spec, schema["$ref"])
    found = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key in schema["properties"]:
                found += undeclared_properties(spec, item, schema["properties"][key], "%s.%s" % (where, key), allowed)
            elif key not in extra:
                found.append("%s.%s" % (where, key))
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += undeclared_properties(spec, item, schema["items"], "%s[%d]" % (where, index), allowed)
    return found


def response_schema(spec, method, status, template=SPEC_PATH_TEMPLATE):
    response = spec["paths"][template][method.lower()]["responses"][str(status)]
    if "$ref" in response:
        response = resolve_pointer(spec, response["$ref"])
    return response.get("content", {}).get("application/json", {}).get("schema")


@pytest.mark.parametrize("name, method, account_id, query, body, options", SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_answer_matches_the_openapi_contract(sim, openapis, spec_documents, name, method, account_id, query, body, options):
    seeded(sim)
    if "accounts" in options:
        sim.reset(options["accounts"])
    resource = options.get("resource", "ips")
    spec_name, template = RESOURCES[resource]
    openapi, spec_document = openapis[spec_name], spec_documents[spec_name]
    ip = first_ip(sim) if "accounts" not in options else None
    query, body = with_first_ip(query, ip), with_first_ip(body, ip)
    raw_body = options.get("raw", json.dumps(body).encode("utf-8") if body is not None else None)
    key = options.get("key", API_KEY)
    if options.get("faults"):
        sim.faults(options["faults"])

    answer = sim.call(method, account_id, api_key=key, query=query, raw_body=raw_body, resource=resource)
    assert answer.status == options["status"], answer.body

    request, response = as_mock_pair(method, account_id, query, raw_body, key, answer, resource)
    if options.get("spec_valid_request", True):
        openapi.validate_request(request)  # the scenario itself is in contract
    else:
        with pytest.raises(OpenAPIError):
            openapi.validate_request(request)
    openapi.validate_response(request, response)  # documented status, media type and body schema
    schema = response_schema(spec_document, method, answer.status, template)
    if schema is None:  # e.g. 204: the spec declares no content at all
        assert answer.body == b"" and "Content-Type" not in answer.headers
    else:
        allowed = {ACCOUNT_SCHEMA_REF: example_account_properties(spec_document)} if spec_name == "account" else None
        assert undeclared_properties(spec_document, answer.json(), schema, allowed=allowed) == []


def test_the_account_example_allowance_is_only_what_the_spec_shows(spec_documents):
    assert example_account_properties(spec_documents["account"]) == {"id", "email", "created_at", "updated_at"}
    spec = spec_documents["account"]
    schema = response_schema(spec, "GET", 200, "/v3/partners/accounts")
    answer = {"accounts": [{"id": "a", "created_at": "2006-01-02T15:04:05Z", "email": "e", "first_name": "x"}], "pages": {"lasts": "a"}}
    assert undeclared_properties(spec, answer, schema, allowed={ACCOUNT_SCHEMA_REF: example_account_properties(spec)}) == [
        "$.accounts[0].first_name", "$.pages.lasts"]


def test_every_account_answer_follows_the_spec_across_pages(sim, openapis, spec_documents):
    """250 accounts listed 100 at a time: each page is in contract and the pages together list each account once."""
    sim.reset({"sg%032x" % number: {"email": "c%d@example.com" % number} for number in range(250)})
    openapi, spec = openapis["account"], spec_documents["account"]
    schema = response_schema(spec, "GET", 200, "/v3/partners/accounts")
    seen, offset, pages = [], None, 0
    while True:
        query = {"limit": 100, **({"offset": offset} if offset else {})}
        answer = sim.call("GET", None, query=query, resource="accounts")
        request, response = as_mock_pair("GET", None, query, None, API_KEY, answer, "accounts")
        openapi.validate_response(request, response)
        assert undeclared_properties(spec, answer.json(), schema, allowed={ACCOUNT_SCHEMA_REF: example_account_properties(spec)}) == []
        page = answer.json()["accounts"]
        pages += 1
        seen += [account["id"] for account in page]
        if len(page) < 100:
            break
        offset = answer.json()["pages"]["last"]
    assert pages == 3 and seen == ["sg%032x" % number for number in range(250)]


@pytest.mark.parametrize("method, body, resource", [
    ("GET", None, "ips"), ("POST", {"count": 1, "region": "us"}, "ips"), ("DELETE", {"ips": [FOREIGN_IP]}, "ips"),
    ("GET", None, "accounts"), ("GET", None, "state"), ("GET", None, "offerings")])
def test_rate_limited_answer_has_the_documented_429_shape(sim, method, body, resource):
    seeded(sim)
    sim.faults([{"action": "rate_limit"}])
    answer = sim.call(method, ACCOUNT, body=body, resource=resource)
    assert answer.status == 429
    assert answer.headers["Content-Type"] == "application/json"
    jsonschema.validate(answer.json(), RATE_LIMITED_SCHEMA)
    assert answer.json()["errors"][0]["message"] == "too many requests"
    assert answer.headers["X-RateLimit-Remaining"] == "0" and int(answer.headers["X-RateLimit-Reset"]) > 0
