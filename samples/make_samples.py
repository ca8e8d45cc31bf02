#!/usr/bin/env python3
"""Writes the bundled sample VPC flow logs under samples/flowlogs/ (gzip, S3 key layout).

Deterministic: a fixed seed, fixed file names, gzip with mtime 0. Standard library only.
Usage: python3 samples/make_samples.py [--out DIR]   (default: flowlogs/ next to this script)
"""

import argparse
import gzip
import os
import random

ACCOUNT = "123456789012"
REGION = "us-east-1"
SEED = 20240501

# 2024-05-01 in Unix seconds at the times the files' five-minute windows start.
T0000 = 1714521600
T0005 = T0000 + 5 * 60
T0600 = T0000 + 6 * 3600
T1300 = T0000 + 13 * 3600
MINUTES = 5  # one-minute aggregation intervals per file

# The databases: (address as the log writes it, port, network interface).
ORDERS = ("10.0.2.45", 5432, "eni-0a5d2c7e9b1f40245")  # PostgreSQL
PAYMENTS = ("10.0.3.12", 3306, "eni-0b6e3d8f0c2a50312")  # MySQL
# The IPv6 cache 2001:db8:0:2::45. The log spells it out in full so that moat's output shows
# the canonical (RFC 5952) form; AWS itself writes the short form.
CACHE = ("2001:0db8:0000:0002:0000:0000:0000:0045", 6379, "eni-0c7f4e9a1d3b62045")
IDLE_ENI = "eni-0e9b6a1c3f5d84021"  # a read replica nobody uses: NODATA only
NAT_ENI = "eni-0d8a5f0b2e4c73010"
NAT_ADDR = "10.0.0.10"  # the NAT gateway's interface address (srcaddr on its records)
NAT_CLIENT = "172.16.8.77"  # the client behind it (pkt-srcaddr)
SCANNER = "198.51.100.23"
SCANNED_PORTS = {"orders": [22, 23, 80, 443, 1433, 3306, 5432, 6379], "payments": [22, 3306, 3389, 5432, 27017]}

DEFAULT_FIELDS = ("version account-id interface-id srcaddr dstaddr srcport dstport protocol "
                  "packets bytes start end action log-status")
# Version-5 fields in an order of our own, as a custom LogFormat may put them.
CUSTOM_FIELDS = ("start end interface-id flow-direction type pkt-srcaddr srcaddr srcport pkt-dstaddr dstaddr "
                 "dstport protocol tcp-flags packets bytes action log-status version account-id")

# Steady clients of the default-format files: (client, database, connections per minute, minutes).
# 10.0.1.20 -> orders: 2 connections x 5 minutes x 2 directions x 3 files = 60 records (one flow).
STEADY = {
    "f0000": [("10.0.1.20", ORDERS, 2, range(5)), ("10.0.1.21", ORDERS, 1, (0, 2, 4)),
              ("10.0.1.30", PAYMENTS, 2, range(5)), ("10.0.1.31", PAYMENTS, 1, (1, 3)),
              ("10.0.1.23", ORDERS, 1, range(5))],
    "f0005": [("10.0.1.20", ORDERS, 2, range(5)), ("10.0.1.21", ORDERS, 1, (0, 2, 4)),
              ("10.0.1.30", PAYMENTS, 2, range(5)), ("10.0.1.23", ORDERS, 1, range(5))],
    "f1300": [("10.0.1.20", ORDERS, 2, range(5)), ("10.0.1.22", ORDERS, 3, range(5)),
              ("10.0.1.22", PAYMENTS, 1, range(5)), ("10.0.1.30", PAYMENTS, 2, range(5)),
              ("10.0.1.24", PAYMENTS, 1, (2, 3))],
}
# A batch job the payments security group rejects (ingress only, no replies).
REJECTED = {"f0005": [("10.0.1.40", PAYMENTS, range(5))]}


class Clock:
    """Times of one file: minute m of its window is [t + 60m, t + 60m + 59]."""

    def __init__(self, t, rng):
        self.t, self.rng = t, rng

    def interval(self, minute):
        start = self.t + 60 * minute
        return start + self.rng.randint(0, 4), start + 59 - self.rng.randint(0, 4)


def default_line(eni, src, dst, sport, dport, packets, size, span, action="ACCEPT"):
    return (f"2 {ACCOUNT} {eni} {src} {dst} {sport} {dport} 6 {packets} {size} "
            f"{span[0]} {span[1]} {action} OK")


def default_status_line(eni, span, status):
    return f"2 {ACCOUNT} {eni} - - - - - - - {span[0]} {span[1]} - {status}"


def default_format_file(name, t, rng, scanned=None, skipdata_minute=None):
    """A file in the default format: steady clients both ways, rejections, NODATA."""
    clock = Clock(t, rng)
    lines = [DEFAULT_FIELDS]
    for minute in range(MINUTES):
        for client, (db, port, eni), per_minute, minutes in STEADY[name]:
            if minute not in minutes:
                continue
            for _ in range(per_minute):
                sport = rng.randint(32768, 60999)
                span = clock.interval(minute)
                req = rng.randint(6, 40)
                resp = req + rng.randint(0, 12)
                lines.append(default_line(eni, client, db, sport, port, req, req * rng.randint(70, 140), span))
                lines.append(default_line(eni, db, client, port, sport, resp, resp * rng.randint(200, 1400), span))
        for client, (db, port, eni), minutes in REJECTED.get(name, []):
            if minute in minutes:
                span = clock.interval(minute)
                lines.append(default_line(eni, client, db, rng.randint(32768, 60999), port, 2, 120, span, "REJECT"))
        if scanned is not None:
            db, _, eni = scanned[1]
            ports = SCANNED_PORTS[scanned[0]]
            for port in ports[minute::MINUTES]:  # the scan is spread over the window
                span = clock.interval(minute)
                lines.append(default_line(eni, SCANNER, db, rng.randint(40000, 60999), port, 1, 44, span, "REJECT"))
        # The cache and the idle replica log no traffic here: NODATA.
        lines.append(default_status_line(CACHE[2], clock.interval(minute), "NODATA"))
        if minute % 2 == 0:
            lines.append(default_status_line(IDLE_ENI, clock.interval(minute), "NODATA"))
        if minute == skipdata_minute:
            lines.append(default_status_line(ORDERS[2], clock.interval(minute), "SKIPDATA"))
    return lines


def custom_line(span, eni, direction, kind, pkt_src, src, sport, pkt_dst, dst, dport, flags, packets, size):
    return (f"{span[0]} {span[1]} {eni} {direction} {kind} {pkt_src} {src} {sport} {pkt_dst} {dst} "
            f"{dport} 6 {flags} {packets} {size} ACCEPT OK 5 {ACCOUNT}")


def custom_format_file(t, rng):
    """The v5 custom-format file: the IPv6 cache with TCP flags, and the client behind the NAT."""
    clock = Clock(t, rng)
    lines = [CUSTOM_FIELDS]
    cache, cache_port, cache_eni = CACHE
    # One long-lived connection per cache client: SYN / SYN-ACK in its first minute, FIN in its
    # last, no flags between. 2001:db8:0:1::21 also opens a short one (SYN|FIN) every minute.
    long_ports = {"2001:db8:0:1::20": rng.randint(32768, 60999), "2001:db8:0:1::21": rng.randint(32768, 60999)}
    for minute in range(MINUTES):
        flags_in, flags_out = {0: (2, 18), MINUTES - 1: (1, 1)}.get(minute, (0, 0))
        conns = [(client, port, flags_in, flags_out) for client, port in long_ports.items()]
        conns.append(("2001:db8:0:1::21", rng.randint(32768, 60999), 3, 19))
        for client, sport, f_in, f_out in conns:
            span = clock.interval(minute)
            req = rng.randint(20, 200)
            resp = req + rng.randint(0, 20)
            lines.append(custom_line(span, cache_eni, "ingress", "IPv6", client, client, sport, cache, cache,
                                     cache_port, f_in, req, req * rng.randint(60, 120)))
            lines.append(custom_line(span, cache_eni, "egress", "IPv6", cache, cache, cache_port, client, client,
                                     sport, f_out, resp, resp * rng.randint(80, 600)))
        # The NAT gateway's interface: srcaddr/dstaddr are its own address, pkt-* the real ends.
        db, db_port, _ = PAYMENTS
        sport = rng.randint(32768, 60999)
        span = clock.interval(minute)
        req = rng.randint(8, 30)
        lines.append(custom_line(span, NAT_ENI, "egress", "IPv4", NAT_CLIENT, NAT_ADDR, sport, db, db, db_port, 3,
                                 req, req * rng.randint(70, 140)))
        lines.append(custom_line(span, NAT_ENI, "ingress", "IPv4", db, db, db_port, NAT_CLIENT, NAT_ADDR, sport, 19,
                                 req + 2, (req + 2) * rng.randint(200, 900)))
        span = clock.interval(minute)
        lines.append(f"{span[0]} {span[1]} {IDLE_ENI} - - - - - - - - - - - - - NODATA 5 {ACCOUNT}")
    return lines


def key_name(flow_log, stamp, digest):
    return f"{ACCOUNT}_vpcflowlogs_{REGION}_{flow_log}_{stamp}_{digest}.log.gz"


def build():
    """Returns {relative path: text} for every sample file."""
    rng = random.Random(SEED)
    daily = f"AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2024/05/01"
    hive = (f"AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/"
            "year=2024/month=05/day=01")
    files = {
        f"{daily}/{key_name('fl-0a1b2c3d', '20240501T0000Z', '1a2b3c4d')}":
            default_format_file("f0000", T0000, rng, scanned=("orders", ORDERS)),
        f"{daily}/{key_name('fl-0a1b2c3d', '20240501T0005Z', '7e8f9a0b')}":
            default_format_file("f0005", T0005, rng),
        f"{daily}/13/{key_name('fl-0b2c3d4e', '20240501T1300Z', '5e6f7a8b')}":
            default_format_file("f1300", T1300, rng, scanned=("payments", PAYMENTS), skipdata_minute=3),
        f"{hive}/{key_name('fl-0c3d4e5f', '20240501T0600Z', '9c0d1e2f')}": custom_format_file(T0600, rng),
    }
    return {path: "\n".join(lines) + "\n" for path, lines in files.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "flowlogs"))
    args = parser.parse_args()
    total = 0
    for path, text in build().items():
        full = os.path.join(args.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        data = gzip.compress(text.encode("ascii"), compresslevel=9, mtime=0)
        with open(full, "wb") as f:
            f.write(data)
        total += len(data)
        print(f"{path}: {text.count(chr(10)) - 1} records, {len(data)} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
