"""`python -m envs.sites`: serve the bundled sites in the foreground and print how to reach them."""

from __future__ import annotations

import argparse
import json
import threading

from .launcher import CLASSIFIEDS_RESET_TOKEN, SESSION_COOKIES, SITE_NAMES, start_sites


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m envs.sites", description=__doc__)
    parser.add_argument(
        "--sites", nargs="+", choices=SITE_NAMES, default=list(SITE_NAMES), help="which sites to serve"
    )
    parser.add_argument(
        "--port", action="append", default=[], metavar="SITE=PORT", help="override a port, e.g. shop=8080"
    )
    parser.add_argument(
        "--fixed-ports", action="store_true", help="fail instead of picking a free port when one is busy"
    )
    parser.add_argument("--json", action="store_true", help="print the addresses as one JSON object")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    ports = {}
    for item in args.port:
        site, _, port = item.partition("=")
        if site not in SITE_NAMES or not port.isdigit():
            parser.error(f"--port wants SITE=PORT with SITE in {', '.join(SITE_NAMES)}, got {item!r}")
        ports[site] = int(port)
    with start_sites(args.sites, ports, args.fixed_ports, quiet=not args.verbose) as sites:
        if args.json:
            print(
                json.dumps(
                    {
                        "urls": sites.urls,
                        "internal_urls": sites.internal_urls,
                        "host_map": sites.host_map,
                        "placeholders": sites.placeholders,
                    }
                ),
                flush=True,
            )
        else:
            for name in sites.names:
                cookie, value = SESSION_COOKIES[name]
                print(
                    f"{name:12} {sites.urls[name]:32} (internal {sites.internal_urls[name]})  login cookie {cookie}={value}"
                )
            print(f'\nChromium flag: --host-resolver-rules="{sites.host_resolver_rules}"')
            print(
                f"Reset: POST <url>/__reset__ (instance=...); classifieds also POST index.php?page=reset token={CLASSIFIEDS_RESET_TOKEN}"
            )
            print("Accounts: alex / alexpass on every site. Press Ctrl+C to stop.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
