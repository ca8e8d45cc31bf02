#!/usr/bin/env python3
"""Baseline for moat's flows benchmark: aggregates VPC flow logs the plain Python way.

Usage: baseline_count.py FILE [FILE...]   (.gz files are gunzipped; JSON on stdout)
"""

import gzip
import json
import sys

SERVICE_PORT_LIMIT = 1024  # ports below this are service ports


def open_log(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="ascii", newline="\n")
    return open(path, "rt", encoding="ascii", newline="\n")


def orient(src, dst, srcport, dstport):
    """Returns (initiator, responder, responder port) for a record without tcp-flags."""
    src_service = srcport < SERVICE_PORT_LIMIT
    dst_service = dstport < SERVICE_PORT_LIMIT
    if src_service and not dst_service:
        return src, dst, srcport
    if dst_service and not src_service:
        return dst, src, dstport
    if srcport < dstport:
        return dst, src, srcport
    return src, dst, dstport  # lower destination port, or equal ports: the destination responds


def count_file(path, flows, totals):
    with open_log(path) as f:
        header = f.readline().split()
        col = {name: i for i, name in enumerate(header)}
        for line in f:
            fields = line.split()
            status = fields[col["log-status"]]
            if status == "NODATA":
                totals["nodata"] += 1
                continue
            if status == "SKIPDATA":
                totals["skipdata"] += 1
                continue
            srcport = int(fields[col["srcport"]])
            dstport = int(fields[col["dstport"]])
            initiator, responder, port = orient(
                fields[col["srcaddr"]], fields[col["dstaddr"]], srcport, dstport)
            key = (initiator, responder, port, int(fields[col["protocol"]]),
                   fields[col["action"]])
            counts = flows.get(key)
            if counts is None:
                counts = flows[key] = [0, 0, 0]
            counts[0] += 1
            counts[1] += int(fields[col["packets"]])
            counts[2] += int(fields[col["bytes"]])
            totals["records"] += 1


def main(paths):
    if not paths:
        sys.exit(__doc__.strip())
    flows = {}
    totals = {"records": 0, "nodata": 0, "skipdata": 0}
    for path in paths:
        count_file(path, flows, totals)
    rows = [{"initiator": k[0], "responder": k[1], "port": k[2], "protocol": k[3],
             "action": k[4], "records": v[0], "packets": v[1], "bytes": v[2]}
            for k, v in flows.items()]
    rows.sort(key=lambda r: (-r["records"], r["initiator"], r["responder"], r["port"],
                             r["protocol"], r["action"]))
    json.dump({"records": totals["records"], "nodata": totals["nodata"],
               "skipdata": totals["skipdata"], "flows": rows}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
