"""`python -m ghsim --port 8001`: run the simulator with the config from the environment."""

from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import run_simple

from ghsim.app import create_app
from ghsim.config import ConfigError, SimConfig
from ghsim.server import QuietSimRequestHandler, SimRequestHandler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ghsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args(argv)
    try:
        config = SimConfig.from_env()
    except ConfigError as exc:
        print(f"ghsim: {exc}", file=sys.stderr)
        return 2
    app = create_app(config)
    app.extensions["ghsim"].base_url = f"http://{args.host}:{args.port}"
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print(
        f"ghsim: web http://{args.host}:{args.port}  api http://{args.host}:{args.port}/api/v3"
        f"  control http://{args.host}:{args.port}/_sim/",
        file=sys.stderr,
    )
    handler = QuietSimRequestHandler if args.quiet else SimRequestHandler
    run_simple(
        args.host, args.port, app, threaded=True, use_reloader=False, request_handler=handler
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
