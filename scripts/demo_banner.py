"""Print the demo banner again once the web server, the simulator and the alerts' demo
receivers (mailbox, chat receiver) answer."""

import sys
import time
import urllib.request
from pathlib import Path


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError:
        return False


def main(web: str, sim: str, *pages: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _up(f"{web}/healthz") and _up(f"{sim}/_sim/state") and all(_up(p) for p in pages):
            print((Path(__file__).resolve().parent.parent / ".demo" / "banner.txt").read_text())
            print(f"Ready: {web}/", flush=True)
            break
        time.sleep(1)
    else:
        print(
            "The web server, the simulator, the mailbox or the chat receiver did not start; "
            "see the log above.",
            flush=True,
        )
    # Stay alive: honcho stops everything when one process exits.
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main(*sys.argv[1:])
