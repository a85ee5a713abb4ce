"""mq under the checker: small scenarios explored exhaustively at preemption bound 2.

Every scenario is a module-level body (re-run from scratch for each
schedule) and a test that proves it: exploration complete, no failure.
Beside each, one or more deliberately broken variants of the mq code the
scenario guards, installed with ``monkeypatch``, show that the same body
and checks catch the bug with the right property.  See docs/checker-mq.md.
"""
