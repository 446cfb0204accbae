"""The sandbox's go-bexpr parser and evaluator, held against go-bexpr's own examples.

Parse cases and their error texts are the table in hashicorp/go-bexpr `grammar/grammar_test.go`
(the grammar is `grammar/grammar.peg`); evaluation cases follow `evaluate.go` and the README's
examples. A filter a user types must mean on the sandbox what it means on a real cluster, and a
bad one must fail with the text Nomad would send.
"""

from __future__ import annotations

import pytest

from sandbox.filters import BexprError, Binary, Collection, Match, Selector, Unary, compile_filter, parse
from sandbox.http import HTTPError


def sel(*path, pointer=False):
    return Selector(tuple(path), pointer)


PARSES = {
    "foo == 3": Match(sel("foo"), "==", "3"),
    '"/foo" == 3': Match(sel("foo", pointer=True), "==", "3"),
    '"/hy-phen/under_score/pi|pe/do.t/ti~lde/co:lon" == 3': Match(
        sel("hy-phen", "under_score", "pi|pe", "do.t", "ti~lde", "co:lon", pointer=True), "==", "3"
    ),
    "foo/bar == 3": Match(sel("foo/bar"), "==", "3"),
    "foo != xyz": Match(sel("foo"), "!=", "xyz"),
    "list is empty": Match(sel("list"), "is empty"),
    "list is not empty": Match(sel("list"), "is not empty"),
    "foo in bar": Match(sel("bar"), "in", "foo"),
    "foo not in bar": Match(sel("bar"), "not in", "foo"),
    "bar contains foo": Match(sel("bar"), "in", "foo"),
    "bar not contains foo": Match(sel("bar"), "not in", "foo"),
    "foo matches bar": Match(sel("foo"), "matches", "bar"),
    "foo not matches bar": Match(sel("foo"), "not matches", "bar"),
    "not prod in tags": Unary(Match(sel("tags"), "in", "prod")),
    "port != 80 and port != 8080": Binary("and", Match(sel("port"), "!=", "80"), Match(sel("port"), "!=", "8080")),
    "port == 80 or port == 443": Binary("or", Match(sel("port"), "==", "80"), Match(sel("port"), "==", "443")),
    'foo == "bar"': Match(sel("foo"), "==", "bar"),
    '"foo" not in bar': Match(sel("bar"), "not in", "foo"),
    "foo == `bar`": Match(sel("foo"), "==", "bar"),
    "`foo` in bar": Match(sel("bar"), "in", "foo"),
    "x in foo and not str == something or list is empty": Binary(
        "or",
        Binary("and", Match(sel("foo"), "in", "x"), Unary(Match(sel("str"), "==", "something"))),
        Match(sel("list"), "is empty"),
    ),
    "x in foo and not (str == something or list is empty)": Binary(
        "and",
        Match(sel("foo"), "in", "x"),
        Unary(Binary("or", Match(sel("str"), "==", "something"), Match(sel("list"), "is empty"))),
    ),
    "\t\r\n  foo \t\r\n not \t\r\n in \t\r\n x \t\r\n": Match(sel("x"), "not in", "foo"),
    "\t\r\n  foo \t\r\n is \t\r\n not \t\r\n empty \t\r\n": Match(sel("foo"), "is not empty"),
    "\t\r\n ( \t\r\n foo \t\r\n == \t\r\n x \t\r\n ) \t\r\n": Match(sel("foo"), "==", "x"),
    '`environment` in foo.bar["meta"].tags[\t`ENV` ]': Match(
        sel("foo", "bar", "meta", "tags", "ENV"), "in", "environment"
    ),
    'environment in foo["bar"]["meta"]["tags"]["ENV"]': Match(
        sel("foo", "bar", "meta", "tags", "ENV"), "in", "environment"
    ),
    'environment in foo["abc-def ghi åß∂ƒ"]': Match(sel("foo", "abc-def ghi åß∂ƒ"), "in", "environment"),
    "foo == 0.2": Match(sel("foo"), "==", "0.2"),
    "foo == -0.2": Match(sel("foo"), "==", "-0.2"),
    "not not foo == 3": Match(sel("foo"), "==", "3"),
    'all group.tasks as t { t.name == "hello" }': Collection(
        "all", sel("group", "tasks"), ("t", None, None), Match(sel("t", "name"), "==", "hello")
    ),
    "any m as k, v { v == 1 }": Collection("any", sel("m"), (None, "k", "v"), Match(sel("v"), "==", "1")),
}

# grammar_test.go's error cases, with the exact texts go-bexpr (pigeon) produces.
ERRORS = {
    '"/hy-phen/under_score/pi|pe/do.t/ti~lde/" == 3': '1:43 (42): no match found, expected: "in", "not" or [ \\t\\r\\n]',
    'foo == "12x': '1:12 (11): rule "string": Unterminated string literal',
    "foo == `12x": '1:12 (11): rule "string": Unterminated string literal',
    "foo == 3x": '1:9 (8): rule "number": Invalid number literal',
    "foo[3] == abc": '1:5 (4): rule "index": Invalid index',
    'x in foo["abc"': '1:15 (14): rule "index": Unclosed index expression',
    'foo["abc" == 3': '1:11 (10): rule "index": Unclosed index expression',
    "x in 32": '1:6 (5): rule "match": Invalid selector',
    "32 == 32": '1:4 (3): no match found, expected: "in", "not" or [ \\t\\r\\n]',
    "32 is empty": '1:4 (3): no match found, expected: "in", "not" or [ \\t\\r\\n]',
    "x in foo abc": '1:10 (9): no match found, expected: "and", "or", [ \\t\\r\\n] or EOF',
    "x in foo and ": '1:14 (13): no match found, expected: "(", "-", "0", "\\"", "`", "not", [ \\t\\r\\n], [1-9] or [a-zA-Z]',
    "x in foo or ": '1:13 (12): no match found, expected: "(", "-", "0", "\\"", "`", "all", "any", "not", '
    "[ \\t\\r\\n], [1-9] or [a-zA-Z]",
    "x in foo or not ": '1:17 (16): no match found, expected: "!=", "(", "-", "0", "==", "\\"", "`", "contains", '
    '"in", "is", "matches", "not", [ \\t\\r\\n], [1-9] or [a-zA-Z]',
    "(foo == 4": '1:10 (9): rule "grouping": Unmatched parentheses',
}


@pytest.mark.parametrize("expr", sorted(PARSES))
def test_grammar_examples_parse(expr):
    assert parse(expr) == PARSES[expr]


@pytest.mark.parametrize("expr", sorted(ERRORS))
def test_grammar_examples_fail_with_go_bexpr_text(expr):
    with pytest.raises(BexprError) as info:
        parse(expr)
    assert str(info.value) == ERRORS[expr]


ALLOC = {
    "ID": "5456bd7a-9fc0-c0dd-6131-cbee77f57577",
    "ClientStatus": "running",
    "CreateIndex": 42,
    "Job": {"Meta": {"client": "northern-leaf", "tier": "premium"}, "Priority": 50, "Stop": False},
    "TaskStates": {"web": {"State": "running", "Restarts": 3, "Failed": False, "Events": [{"Type": "Started"}]}},
    "Tags": ["http", "canary"],
    "Meta": None,
    "Name": "northern-leaf-web.web[0]",
}

EVALUATES = [
    ('Job.Meta.client == "northern-leaf"', True),
    ('Job.Meta["tier"] == premium', True),  # an unquoted value is read as a selector's text
    ('Job.Meta.missing == "x"', False),  # a missing map key is "not present"
    ('Job.Meta.missing != "x"', True),
    ("Job.Meta.missing is empty", True),
    ("Job.Meta is not empty", True),
    ('"tier" in Job.Meta', True),  # in on a map tests its keys
    ("Meta is empty", True),  # a nil map is empty
    ("Meta is nil", True),
    ('"canary" in Tags and Tags not contains "grpc"', True),
    ("CreateIndex == 42 and Job.Priority != 40", True),
    ("Job.Stop == false", True),
    ('Name matches "^northern-leaf-.*\\\\[0\\\\]$"', True),
    ('Name not matches "^other"', True),
    ('Name contains "leaf-web"', True),  # in/contains on a string is a substring test
    ('not (ClientStatus == "failed" or TaskStates.web.Restarts == 0)', True),
    ('TaskStates.web.Events.0.Type == "Started"', True),
    ('any TaskStates as name, ts { ts.State == "running" }', True),
    ('all Tags as t { t matches "^(http|canary)$" }', True),
]


@pytest.mark.parametrize(("expr", "expected"), EVALUATES)
def test_evaluation_over_full_objects(expr, expected):
    assert compile_filter(expr)(ALLOC) is expected


def test_unknown_struct_field_and_bad_literal_are_errors():
    with pytest.raises(HTTPError) as info:
        compile_filter('Nope == "x"', eval_prefix="failed to read result page: ")(ALLOC)
    assert info.value.status == 400
    assert info.value.message == (
        "failed to read result page: error finding value in datum: /Nope at part 0: "
        'couldn\'t find key: struct field with name "Nope"'
    )
    with pytest.raises(HTTPError) as info:
        compile_filter("CreateIndex == abc")(ALLOC)
    assert 'strconv.ParseInt: parsing "abc": invalid syntax' in info.value.message
    with pytest.raises(HTTPError) as info:
        compile_filter("Job == 3")(ALLOC)
    assert "unable to find suitable primitive comparison function" in info.value.message


def test_parse_errors_are_400_with_the_paginator_prefix():
    with pytest.raises(HTTPError) as info:
        compile_filter("x in foo abc", parse_prefix="failed to read filter expression: ")
    assert info.value.status == 400
    assert info.value.message.startswith("failed to read filter expression: 1:10 (9): no match found")
    assert compile_filter("") is None and compile_filter("   ") is None


def test_go_fields_the_json_leaves_out_read_as_zero_values():
    """A filter selects Go struct fields (go-bexpr over nomad/structs), so a field the JSON omits
    (omitempty) is still there with its zero value, a nil map reads as empty, and only a name that
    is no field of the struct is an error."""
    bare = {"ID": "a", "ClientStatus": "running", "Job": {"ID": "j"}}
    assert compile_filter('NextAllocation == ""', root="Allocation")(bare)
    assert compile_filter("DeploymentStatus is nil", root="Allocation")(bare)
    assert compile_filter("CreateIndex == 0 and not (PreemptedAllocations contains x)", root="Allocation")(bare)
    assert not compile_filter('Job.Meta.client == "x"', root="Allocation")(bare)  # nil map: not present
    assert compile_filter("TaskStates is empty", root="Allocation")(bare)
    with pytest.raises(HTTPError, match='struct field with name "Nope"'):
        compile_filter("Job.Nope == 1", root="Allocation")(bare)
    with pytest.raises(HTTPError, match="invalid value kind"):
        compile_filter("DeploymentStatus.Healthy == true", root="Allocation")(bare)  # through a nil pointer
