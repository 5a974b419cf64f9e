"""A small Flask (WSGI) app for the local target's tests: its version comes from
``APP_VERSION``; ``/monitoring/whoami`` says which process and interpreter answered."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys

from flask import Flask, jsonify

app = Flask(__name__)
VERSION = os.environ.get("APP_VERSION", "0.0.0")
BOOT_CPUS = sorted(os.sched_getaffinity(0))  # the CPUs it could use when it was imported


@app.get("/monitoring/health")
def health() -> object:
    return jsonify(status="ok")


@app.get("/monitoring/version")
def version() -> object:
    response = jsonify(version=VERSION)
    response.headers["x-app-version"] = VERSION
    return response


@app.get("/monitoring/whoami")
def whoami() -> object:
    return jsonify(
        pid=os.getpid(),
        boot_cpus=BOOT_CPUS,
        cpus=sorted(os.sched_getaffinity(0)),
        prefix=sys.prefix,
        releasegate=importlib.util.find_spec("releasegate") is not None,
    )


@app.get("/cpu")
def cpu() -> object:
    """About 5 ms of CPU work (a CPU-bound endpoint for the workers benchmark)."""
    digest = b"x"
    for _ in range(20_000):
        digest = hashlib.sha256(digest).digest()
    return jsonify(version=VERSION, digest=digest.hex()[:8])
