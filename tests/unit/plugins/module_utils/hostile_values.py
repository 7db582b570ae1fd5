# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile values for the property-based tests (hypothesis): what a playbook, YAML or JSON can give where an account
ID, an IP or a number is expected, and the fuzz settings.

Shared by test_fuzz_input.py (pure logic) and tests/integration/targets/client_http/test_fuzz_http.py (over HTTP,
against the simulator), so both try the same values. Test data only: no test here.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, settings, strategies as st

ONE_SEGMENT = re.compile(r"^/v3/partners/accounts/([^/?#]+)/ips$")
STRICT_IPV4 = re.compile(r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FUZZ_SLOW = settings(FUZZ, max_examples=120)

SEED_IPS = ["174.0.0.%d" % number for number in range(1, 4)] + ["185.0.0.%d" % number for number in range(1, 3)]

# --------------------------------------------------------------------------- strategies

HOSTILE_IDS = st.sampled_from([
    "sg1a2bcd3ef4ab5c67d8efab91c01de2fa", "a/b", "%2F", "a%2Fb", "..", ".", "../..", "a/../b", "/", "//", "?", "#",
    "a?b=c", "a#b", " a", "a ", "\t", "\n", "a\nb", "a\rb", "a\x00b", "a\x7fb", "\u00a0", "\u2028", "é", "账户",
    "\U0001f4a5", "%", "%%", "%00", "%2e%2e", "a;b", "a\\b", "..%2F", "~user", "+", "&", "=", "@", "ips", "v3",
])
ACCOUNT_IDS = st.one_of(HOSTILE_IDS, st.text(min_size=1, max_size=40),
                        st.text(alphabet=st.sampled_from("/%.?#&=+ ;\\2Fe"), min_size=1, max_size=12))
# What YAML or JSON can give where a string is expected (module arguments travel as JSON).
NOT_STRINGS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.lists(st.integers(), max_size=2),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
HOSTILE_IPS = st.sampled_from([
    "174.0.0.1", "1.2.3.4", "0.0.0.0", "255.255.255.255", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.04",
    " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4/32", "::1", "2001:db8::1", "::ffff:1.2.3.4", "[::1]", "1.2.3.-1",
    "１.２.３.４", "1.2.3.4%2F", "1..2.3", "", "0x1.2.3.4", "1e2.2.3.4", "١.٢.٣.٤",
])
IP_VALUES = st.one_of(HOSTILE_IPS, st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str),
                      st.text(max_size=20), NOT_STRINGS)
# Numbers as a playbook can give them: ints of any size, negative, bools, floats, numeric and other strings.
NUMBERS = st.one_of(st.integers(min_value=-5, max_value=40), st.integers(), st.booleans(), st.none(),
                    st.floats(allow_nan=True), st.sampled_from(["3", "03", " 3", "3.0", "1e3", "-1", "ten", "", "0x10"]),
                    st.lists(st.integers(), max_size=2))
# ansible-core's own int check raises OverflowError for an infinite float (its bug, not this collection's).
MODULE_NUMBERS = NUMBERS.filter(lambda value: not (isinstance(value, float) and value in (float("inf"), float("-inf"))))
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**3, max_value=10**3), st.floats(),
                      st.text(max_size=10), HOSTILE_IPS)


def json_containers(inner):
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3))


JSON = st.recursive(JSON_LEAF, json_containers, max_leaves=8)
