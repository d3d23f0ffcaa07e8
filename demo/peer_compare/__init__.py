"""Side-by-side comparison with a peer project (issue #20.2): ZhangColin/party-building, FastAPI +
SQLAlchemy, run here on PostgreSQL.

``load`` copies the names, branches, meetings and monthly dues rows of a ``bench`` database into
the peer's own schema (created by the peer's code, in its own database); ``servers`` starts the
peer (uvicorn, 2 workers) and ours (gunicorn, 2 workers, production settings) on loopback ports;
``measure`` sends alternating requests to both and prints one table. Nothing here is used by the
application; the peer's code is run from its own checkout, never copied into this repository.
See docs/benchmarks.md ("Side by side with a peer project").
"""
