"""Tiny, dependency-free modules that both sides of the data spine read.

``connectors`` may import nothing of ours and ``views`` may not import ``connectors``; what both
must agree on lives here, importing only the standard library (tests/unit/test_architecture.py):

* ``common.fields``: which fields of the Nomad/Consul JSON the dashboard reads (the connectors
  keep only these when they slim big lists; the views read exactly these).
"""
