"""schemathesis hooks of tests/schemathesis.rs (see docs/reliability.md).

JSON Schema counts `2.0` as an integer, and schemathesis sends integers that
way too. API v2 reads integers as written: an amount or a credit limit of
`2.0` is FRACTION_IN_AMOUNT_NOT_VALID by contract (docs/api-v2.md), and any
other integer field refuses it the same way. The document cannot state that
distinction, so generated bodies spell whole floats as integers; the
fraction rule is tested in tests/api/v2_bad_input.rs.
"""

import schemathesis


def _whole_floats_as_integers(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_whole_floats_as_integers(item) for item in value]
    if isinstance(value, dict):
        return {key: _whole_floats_as_integers(item) for key, item in value.items()}
    return value


@schemathesis.hook
def map_body(context, body):
    return _whole_floats_as_integers(body)
