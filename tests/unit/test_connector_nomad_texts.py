"""Real Nomad error texts (v1.11.3 source) become our plain-words errors.

A short ID is a 500 on Nomad and a down node a 404; a support person must read "no allocation
with that ID" and "the node is unreachable", not "Nomad answered with an error".
"""

from __future__ import annotations

import pytest

from connectors._common import Context, from_status
from connectors.errors import BadResponse, InvalidInput, NotFound, Unavailable


def ctx():
    return Context(
        source="Nomad",
        addr="https://nomad.example:4646",
        doing="restart allocations",
        missing="allocation x",
        whose="The dashboard's",
        has_token=True,
        timeout=5.0,
        secrets=(),
    )


@pytest.mark.parametrize(
    ("status", "body", "cls", "words"),
    [
        (500, "alloc lookup failed: index error: UUID must be 36 characters", NotFound, "no allocation with that ID"),
        (
            500,
            "eval lookup failed: index error: Input (without hyphens) must be even length",
            NotFound,
            "no evaluation",
        ),
        (500, "node lookup failed: index error: UUID must be 36 characters", NotFound, "no node with that ID"),
        (404, 'Unknown allocation "5456bd7a-9fc0-c0dd-6131-cbee77f57577"', NotFound, "no allocation with that ID"),
        (404, "No path to node", Unavailable, "node running this allocation is unreachable"),
        (500, "Could not find task runner for task: web", NotFound, "has no task named web"),
        (500, "Task not running", BadResponse, "task is not running"),
        (500, "restart of an alloc that should not run", BadResponse, "allocation has finished"),
        (500, "task name cannot be set when restarting all tasks", InvalidInput, "either one task or all tasks"),
        (404, 'task "web" not started yet. No logs available', NotFound, "has not started yet"),
        (400, "failed to read result page: error finding value in datum: /X at part 0", BadResponse, "filter"),
    ],
)
def test_real_texts_map_to_plain_words(status, body, cls, words):
    err = from_status(ctx(), status, body)
    assert type(err) is cls
    assert words in err.message and f"(Nomad said: {body})" in err.message


def test_unrecognised_texts_keep_the_status_mapping():
    assert type(from_status(ctx(), 500, "rpc error: No cluster leader")) is Unavailable
    assert type(from_status(ctx(), 404, "alloc not found")) is NotFound
