"""What the benchmarks that run moat against servers on loopback share: --sizes / --reps and the
work directory, free ports, server processes, moto through tests/moto_server.py, the IAM key and
network of a seeded estate, and running one moat command.

Stdlib only; the functions that call moto import boto3 themselves, so importing this module (and
a script's --help) works without it.
"""

import ipaddress
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

REGION = "us-east-1"
MOTO_LAUNCHER = os.path.join("tests", "moto_server.py")
START_TIMEOUT = 30.0  # seconds until a server must accept connections
COMMAND_TIMEOUT = 600  # seconds for one moat command
SMALL_SUBNET_MAX = 200  # above this many databases the interface stand-ins get a /17, not a /24


class BenchError(Exception):
    """A failure that ends a benchmark: a command failed, or moat's result or requests were
    wrong."""


# ---------------------------------------------------------------------------------------------
# Options and the work directory

def sizes_and_reps(p, args, sizes, smoke_sizes, most=None):
    """Turns --sizes (default `sizes`, or `smoke_sizes` with --smoke) into a list of numbers from
    1 to `most`, and defaults --reps to 3 (1 with --smoke); a bad value is p.error."""
    if args.sizes is None:
        args.sizes = smoke_sizes if args.smoke else sizes
    try:
        args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        p.error("--sizes: expected comma-separated integers, got %r" % args.sizes)
    if not args.sizes or min(args.sizes) < 1 or (most is not None and max(args.sizes) > most):
        p.error("--sizes: every size must be " +
                ("at least 1" if most is None else "from 1 to %d" % most))
    if args.reps is None:
        args.reps = 1 if args.smoke else 3
    if args.reps < 1:
        p.error("--reps must be at least 1")


def make_workdir(args, prefix):
    """Creates args.workdir, a new temporary directory when --workdir is not given; returns
    whether it is temporary."""
    temp = args.workdir is None
    if temp:
        args.workdir = tempfile.mkdtemp(prefix=prefix)
    os.makedirs(args.workdir, exist_ok=True)
    return temp


def leave_workdir(args, temp, ok):
    """Deletes a temporary workdir after a success unless --keep; otherwise prints where it is."""
    if ok and temp and not args.keep:
        shutil.rmtree(args.workdir, ignore_errors=True)
    else:
        print("(files in %s)" % args.workdir)  # kept on failure, for the logs


def run_sizes(args, bench_size):
    """bench_size(args, n) for each of args.sizes until one raises BenchError, then --json-out.
    Returns (results, the failure's text or None)."""
    results, failure = [], None
    try:
        for n in args.sizes:
            results.append(bench_size(args, n))
    except BenchError as e:
        failure = str(e)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"sizes": args.sizes, "reps": args.reps, "results": results,
                       "failure": failure}, f, indent=1)
    return results, failure


# ---------------------------------------------------------------------------------------------
# Servers on loopback

def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def clean_env(drop=("AWS_", "MOAT_", "ILLUMIO_"), **settings):
    """The caller's environment without the settings whose names start with `drop`, plus
    `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(settings)
    return env


class Server:
    """A server process on loopback, stopped on exit; a subclass's `ready()` says when it
    listens. `failure` is the error's text when it does not start."""

    def __init__(self, argv, log_path, env, failure):
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError("%s; see %s" % (failure, log_path))
            time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class Moto(Server):
    """moto_server through tests/moto_server.py, which keeps each interface stand-in's groups
    equal to its database's (as AWS does with the interfaces RDS makes). The first four calls may
    be unsigned (INITIAL_NO_AUTH_ACTION_COUNT=4); every later one must be signed by a known key
    and allowed by IAM. It runs in `env`, by default this process's environment."""

    def __init__(self, source_dir, log_path, env=None):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        launcher = os.path.join(source_dir, MOTO_LAUNCHER)
        super().__init__([sys.executable, launcher, "-H", "127.0.0.1", "-p", str(self.port)],
                         log_path,
                         dict(os.environ if env is None else env, INITIAL_NO_AUTH_ACTION_COUNT="4"),
                         "moto_server did not start (pip install 'moto[server]')")

    def ready(self):
        return accepts(self.port)


# ---------------------------------------------------------------------------------------------
# Seeding moto

def iam_key(url):
    """Creates the IAM user moat signs as, allowed everything, with the four unsigned calls moto
    allows; returns its (access key id, secret)."""
    import boto3  # imported here so --help works without it

    iam = boto3.client("iam", endpoint_url=url, region_name=REGION,
                       aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
    iam.create_user(UserName="moat")
    policy = iam.create_policy(PolicyName="everything", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    iam.attach_user_policy(UserName="moat", PolicyArn=policy["Policy"]["Arn"])
    key = iam.create_access_key(UserName="moat")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def client(url, key, service):
    """A boto3 client for moto at `url`, signed with `key` (access key id, secret)."""
    import boto3

    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        aws_access_key_id=key[0], aws_secret_access_key=key[1])


def network(ec2, rds, n):
    """A VPC with two subnets and the DB subnet group `db-subnets` over them, room for N
    databases. Returns (VPC id, first subnet id, its network address); the interface stand-ins
    go in the first subnet."""
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    first_cidr = "10.0.2.0/24" if n <= SMALL_SUBNET_MAX else "10.0.128.0/17"
    first = ec2.create_subnet(VpcId=vpc, CidrBlock=first_cidr,
                              AvailabilityZone=REGION + "a")["Subnet"]["SubnetId"]
    second = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/24",
                               AvailabilityZone=REGION + "b")["Subnet"]["SubnetId"]
    rds.create_db_subnet_group(DBSubnetGroupName="db-subnets", DBSubnetGroupDescription="db",
                               SubnetIds=[first, second])
    return vpc, first, ipaddress.ip_network(first_cidr).network_address


def add_database(ec2, rds, subnet, db, group, address, tags=None):
    """A PostgreSQL instance `db` in `db-subnets` on `group`, and the stand-in for its network
    interface: in `subnet` at `address`, with the same group."""
    ec2.create_network_interface(SubnetId=subnet, Description="RDSNetworkInterface",
                                 Groups=[group], PrivateIpAddress=address)
    extra = {"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}
    rds.create_db_instance(DBInstanceIdentifier=db, DBInstanceClass="db.t3.micro",
                           Engine="postgres", AllocatedStorage=20, MasterUsername="app",
                           MasterUserPassword="not-a-secret-0", DBSubnetGroupName="db-subnets",
                           VpcSecurityGroupIds=[group], **extra)


def open_databases(url, n, port, digits=3):
    """The estate the enforcement benchmarks start from: the IAM key, then N PostgreSQL instances
    db-<i> (i on `digits` digits), each on its own hand-made group legacy-<i> open to the world on
    `port` (so each interface stand-in's groups name exactly one database), the stand-ins in the
    first subnet. Returns (key, rds client, {db id: (its group, its address)})."""
    key = iam_key(url)
    ec2 = client(url, key, "ec2")
    rds = client(url, key, "rds")
    vpc, first, base = network(ec2, rds, n)
    out = {}
    for i in range(n):
        db, legacy = "db-%0*d" % (digits, i), "legacy-%0*d" % (digits, i)
        group = ec2.create_security_group(GroupName=legacy, Description="hand-made", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        out[db] = (group, str(base + 10 + i))
        add_database(ec2, rds, first, db, group, out[db][1])
    return key, rds, out


# ---------------------------------------------------------------------------------------------
# Running moat

def run_moat(label, argv, env, log_dir, out_suffix=".out", want_json=True):
    """Runs one moat command, which must exit 0; returns (wall s, CPU s, parsed JSON stdout or
    None). stdout (under `out_suffix`) and stderr are kept in log_dir under `label`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=COMMAND_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BenchError("%s: %s" % (label, e))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stem = os.path.join(log_dir, label.replace(" ", "-"))
    with open(stem + out_suffix, "w") as f:
        f.write(proc.stdout)
    with open(stem + ".err.txt", "w") as f:
        f.write(proc.stderr)
    if proc.returncode != 0:
        raise BenchError("%s: exit %d: %s\n  stderr: %s" % (
            label, proc.returncode, " ".join(argv), proc.stderr.strip()[-2000:]))
    if not want_json:
        return wall, cpu, None
    try:
        return wall, cpu, json.loads(proc.stdout)
    except ValueError as e:
        raise BenchError("%s: stdout is not JSON (%s); see %s%s" % (label, e, stem, out_suffix))
