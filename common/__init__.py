"""Tiny, dependency-free modules that both sides of the data spine read.

``connectors`` may import nothing of ours and ``views`` may not import ``connectors``; what both
must agree on lives here, importing only the standard library (tests/unit/test_architecture.py):

* ``common.fields``: which fields of the Nomad/Consul JSON the dashboard reads (the connectors
  keep only these when they slim big lists; the views read exactly these).
* ``common.gcpause``: the one reference-counted pause of the cyclic garbage collector, held by
  the connectors while they decode big bodies (not while they wait for the socket) and by the
  views while they build frames.
"""
