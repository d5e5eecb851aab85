"""`edgeprune cache stats|clear`: the persistent latency cache (SQLite)."""
from __future__ import annotations

import json


def register(sub):
    p = sub.add_parser("cache", help="latency cache: `cache stats` or `cache clear`")
    actions = p.add_subparsers(dest="cache_action", metavar="ACTION", required=True)
    stats = actions.add_parser("stats", help="entries per device profile and runtime")
    stats.add_argument("--json", action="store_true")
    clear = actions.add_parser("clear", help="delete cached latencies")
    clear.add_argument("--device", default=None, help="only this profile's entries")
    p.set_defaults(func=run)


def run(args) -> int:
    from pipeline.devices.cache import MeasurementCache, default_cache_path
    from pipeline.errors import UserError

    try:
        cache = MeasurementCache()
    except UserError:
        if args.cache_action != "clear" or args.device:
            raise
        # A corrupt cache cannot be opened to be emptied: `clear` removes the file instead.
        path = default_cache_path()
        path.unlink(missing_ok=True)
        print(f"removed the unusable latency cache {path}")
        return 0
    try:
        if args.cache_action == "clear":
            removed = cache.clear(args.device)
            scope = f" of {args.device}" if args.device else ""
            print(f"removed {removed} cached measurement(s){scope} from {cache.path}")
            return 0
        stats = cache.stats()
        if args.json:
            print(json.dumps(stats, indent=2))
            return 0
        print(f"{stats['path']}: {stats['entries']} measurement(s), "
              f"{stats['size_bytes'] / 1024:.1f} KiB")
        for group in stats["groups"]:
            print(f"  {group['profile']:<20} {group['runtime']} {group['runtime_version']:<10} "
                  f"{group['entries']}")
        return 0
    finally:
        cache.close()
