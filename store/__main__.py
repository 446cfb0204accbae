"""``python -m store verify`` and ``python -m store export``, on DATABASE_URL or the SQLite file.

verify: walks the audit chain; exit 0 when intact, 1 naming the first broken record, 2 when the
        store cannot be read.
export: writes the records (``--since``/``--until`` as ISO dates or times, UTC unless an offset is
        given) as CSV or JSON lines to stdout or ``--output``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from store.audit import AuditStore, export
from store.db import StoreUnavailable, database_url, describe


def _time(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time like 2026-12-01 or 2026-12-01T09:30"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description="The dashboard's audit trail.")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else the SQLite file in the state dir")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("verify", help="check the hash chain; non-zero exit naming the first broken record")
    exp = sub.add_parser("export", help="write records as CSV or JSON lines")
    exp.add_argument("--since", type=_time, help="from this UTC date/time (inclusive)")
    exp.add_argument("--until", type=_time, help="up to this UTC date/time (exclusive)")
    exp.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    exp.add_argument("--output", "-o", help="a file (default: standard output)")
    args = parser.parse_args(argv)

    url = args.database_url or database_url()
    try:
        audit = AuditStore(url)
        if args.command == "verify":
            result = audit.verify()
            print(result.words(), file=sys.stdout if result.ok else sys.stderr)
            return 0 if result.ok else 1
        rows = audit.events(since=args.since, until=args.until)
    except StoreUnavailable as err:
        print(f"{err} (database {describe(url)})", file=sys.stderr)
        return 2
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            out.writelines(export(rows, args.format))
    else:
        sys.stdout.writelines(export(rows, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
