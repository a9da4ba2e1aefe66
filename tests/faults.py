#!/usr/bin/env python3
"""memwalk(1) against processes that change, vanish, exec, hide in
another PID namespace, are huge, or are read under load.

Every run must end in one of two ways: a consistent answer (exit 0,
regions sorted and disjoint, JSON that parses), or one clean line on
stderr (exit 1, "memwalk: ..."); never a crash, a hang, a second line,
or a target left stopped. Each test_* function asserts; the run ends
with 'N passed, N failed'. FAULT_SCALE scales the loops: 1 by
default, 0.3 in the sanitizer tree, where each memwalk run starts 20 times
slower (the loops still run dozens of times there), and 0.05 under
valgrind, where it starts 100 times slower (each loop still runs).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import mwtest
from mwtest import assert_running

MEMWALK = os.environ["MEMWALK"]
BUILD_TESTS = os.path.dirname(os.environ["MW_TARGET"])
CHURN = os.path.join(BUILD_TESTS, "churn_target")
STACK_TARGET = os.environ.get("MW_STACK_TARGET",
                              os.path.join(BUILD_TESTS, "stack_target"))
TARGET = os.environ["MW_TARGET"]
SCALE = float(os.environ.get(
    "FAULT_SCALE", "0.05" if mwtest.VALGRIND else
    "0.3" if os.environ.get("MW_SAN_CFLAGS") else "1"))


# How long the PID-reuse scripts give memwalk to start and read its
# target before they replace it: memcheck starts memwalk in about a
# second.
SETTLE = 3 if mwtest.VALGRIND else 0.2


def rounds(n):
    return max(1, round(n * SCALE))

KINDS = {"anon", "heap", "stack", "vdso", "vvar", "vsyscall", "text",
         "rodata", "data", "bss", "file", "shmem", "guard", "thread-stack",
         "glibc-arena", "malloc-mmap", "pymalloc-arena", "memwalk-arena"}

# What every command is asked, with the check of its JSON (None: text).
COMMANDS = [
    (["--json"], "regions"),
    (["-x", "--json"], "regions"),
    (["--json", "--stop"], "regions"),
    ([], None),
    (["-x", "--totals"], None),
    (["stack", "--json"], "stack"),
    (["stack", "--no-stop", "--json"], "stack"),
    (["arenas", "--json"], "arenas"),
    (["layout", "--json"], "layout"),
    (["snap"], "regions"),
    (["where", "--json"], "where"),
]


class Started:
    """A target that prints 'ready' and lives until its stdin closes."""

    def __init__(self, argv, **kw):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, **kw)
        self.lines = []
        for line in self.p.stdout:
            if line == "ready\n":
                break
            self.lines.append(line)
        else:
            raise AssertionError(f"{argv[0]} exited before it was ready")
        self.pid = self.p.pid

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.stdin.close()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


def memwalk(*args, stdin=None, timeout=60):
    return subprocess.run([MEMWALK, *map(str, args)], input=stdin,
                          capture_output=True, text=True, errors="replace",
                          timeout=timeout)


def assert_clean_error(r, why):
    assert r.returncode == 1, (why, r.returncode, r.stderr[-500:])
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("memwalk: "), \
        (why, r.stderr[-500:])


def check_regions(regions):
    last_end = 0
    for reg in regions:
        start, end = int(reg["start"], 16), int(reg["end"], 16)
        assert last_end <= start < end, (hex(last_end), reg)
        assert reg["kind"] in KINDS, reg
        last_end = end
    assert regions, "no regions"


def check_answer(shape, out, pid):
    """A consistent answer of the given shape from a run that exited 0."""
    if shape is None:
        assert out.strip(), "empty output"
        return
    doc = json.loads(out)
    assert doc["pid"] == pid, doc.get("pid")
    if shape == "regions":
        check_regions(doc["regions"])
    elif shape == "stack":
        assert doc["threads"], "no threads"
        for th in doc["threads"]:
            sps = [int(f["sp"], 16) for f in th.get("frames", [])]
            assert sps == sorted(sps), th["tid"]
    elif shape == "layout":
        starts = [int(b["start"], 16) for b in doc["bands"]]
        assert starts == sorted(starts, reverse=True), "bands out of order"
    elif shape == "where":
        assert len(doc["addresses"]) == 2, doc
    elif shape == "arenas":
        assert "arenas" in doc, doc


def run_command(args, shape, pid):
    extra = [pid, "0x1000", "0x7fffffffe000"] if shape == "where" else [pid]
    return memwalk(*args, *extra)


# ---- a map that changes while it is read ----------------------------------

def test_churning_map():
    """Threads map, unmap, mprotect and come and go all the time: every
    command answers consistently, every time, and leaves them running."""
    with Started([CHURN, "--threads", "2"]) as t:
        runs = 0
        for _ in range(rounds(10)):
            for args, shape in COMMANDS:
                r = run_command(args, shape, t.pid)
                assert r.returncode == 0, (args, r.returncode, r.stderr)
                assert r.stderr == "", (args, r.stderr)
                check_answer(shape, r.stdout, t.pid)
                assert_running(t.pid)
                runs += 1
        assert t.p.poll() is None, "the target died"
    assert runs == rounds(10) * len(COMMANDS)


def test_exec_while_read():
    """The target replaces its image every 2 ms (execve, same PID): an
    answer about one image or a clean error, never garbage or a crash."""
    outcomes = {0: 0, 1: 0}
    # under valgrind memwalk reads for a good part of a second: each
    # image then lives a second, so that some reads see one image whole
    execs, life = ("6", "1000") if mwtest.VALGRIND else ("400", "2")
    for i in range(rounds(4)):
        p = subprocess.Popen([CHURN, "--execs", execs, "--life", life],
                             stdout=subprocess.DEVNULL)
        n = 0
        while p.poll() is None and n < 60:
            args, shape = COMMANDS[n % len(COMMANDS)]
            r = run_command(args, shape, p.pid)
            assert r.returncode in (0, 1), (args, r.returncode, r.stderr)
            if r.returncode == 0:
                check_answer(shape, r.stdout, p.pid)
            elif p.poll() is None:
                # alive: the only excuse is that it changed under us
                assert_clean_error(r, args)
            outcomes[r.returncode] += 1
            if p.poll() is None:
                assert_running(p.pid)
            n += 1
        p.kill()
        p.wait()
    assert outcomes[0] > 0, outcomes


def test_exit_while_read():
    """Hundreds of targets that exit while each command reads them."""
    outcomes = {0: 0, 1: 0}
    for i in range(rounds(300)):
        args, shape = COMMANDS[i % len(COMMANDS)]
        p = subprocess.Popen([CHURN, "--execs", "0", "--life",
                              str(i % 7)], stdout=subprocess.DEVNULL)
        r = run_command(args, shape, p.pid)
        p.wait()
        assert r.returncode in (0, 1), (args, r.returncode, r.stderr)
        if r.returncode == 0:
            check_answer(shape, r.stdout, p.pid)
        else:
            assert_clean_error(r, args)
        outcomes[r.returncode] += 1
    assert sum(outcomes.values()) == rounds(300), outcomes
    if SCALE == 1:      # under sanitizers or valgrind every target is gone first
        assert outcomes[0] > 0 and outcomes[1] > 0, outcomes


# ---- PID namespaces and PID reuse -------------------------------------------

def in_new_pid_namespace(script):
    """script run by sh as init of a new PID namespace: its stdout."""
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "sh",
                        "-c", script.format(target=STACK_TARGET,
                                            memwalk=MEMWALK, settle=SETTLE)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def reuse_ok():
    return unshare_ok() and os.path.exists("/proc/sys/kernel/ns_last_pid")


def unshare_ok():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--pid", "--fork", "--mount-proc",
                           "true"], capture_output=True).returncode == 0


# The target parks in read(2) on a FIFO this shell keeps open.
PARK = r"""
set -e
fifo=$(mktemp -u); mkfifo "$fifo"; exec 3<>"$fifo"; rm "$fifo"
"""

NS_SCRIPT = PARK + r"""
{target} --threads 2 --chain 3 <&3 > /dev/null &
sleep 0.3
{memwalk} stack --json $!
kill $!
"""


def test_pid_namespace():
    """A target in another PID namespace: seen from outside by its global
    PID, and from inside by its own (the TIDs differ; both must work)."""
    if not unshare_ok():
        print("  (skipped: needs root and unshare)")
        return
    # from outside: the namespace's init is the target
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc",
                          STACK_TARGET, "--threads", "2", "--chain", "3"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    try:
        for line in p.stdout:
            if line.startswith("ready"):
                break
        pid = target_child(p.pid)
        doc = json.loads(memwalk_ok("stack", "--json", pid))
        assert len(doc["threads"]) == 3, doc["threads"]
        for th in doc["threads"]:
            names = [f.get("function") for f in th["frames"]]
            assert th["stopped"] and names, th
        assert any("chain_c" in [f.get("function") for f in th["frames"]]
                   for th in doc["threads"]), doc
        check_regions(json.loads(memwalk_ok("--json", pid))["regions"])
        assert_running(pid)
    finally:
        p.stdin.close()
        p.wait(20)
    # from inside: memwalk runs in the namespace on the namespace's PID
    doc = json.loads(in_new_pid_namespace(NS_SCRIPT))
    assert doc["pid"] < 100, doc["pid"]      # a namespace-local PID
    assert len(doc["threads"]) == 3, doc["threads"]
    for th in doc["threads"]:
        assert th["tid"] < 100 and th["frames"], th


def target_child(ns_pid):
    """unshare --fork's child: the target, as the root namespace numbers it."""
    with open(f"/proc/{ns_pid}/task/{ns_pid}/children") as f:
        return int(f.read().split()[0])


def memwalk_ok(*args):
    r = memwalk(*args)
    assert r.returncode == 0 and r.stderr == "", (args, r.returncode,
                                                   r.stderr)
    return r.stdout


REUSE_SCRIPT = PARK + r"""
sleep 1000 & old=$!
kill $old; wait $old 2>/dev/null || true
echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
{target} <&3 > /dev/null & new=$!
[ "$new" = "$old" ] || {{ echo "no reuse: $old $new" >&2; exit 9; }}
sleep 0.2
{memwalk} --json $new
kill $new
"""


def test_pid_reuse():
    """A PID that belonged to another process a moment ago: memwalk reads
    the process that has it now (its map, its name), nothing stale."""
    if not reuse_ok():
        print("  (skipped: needs root, unshare and ns_last_pid)")
        return
    doc = json.loads(in_new_pid_namespace(REUSE_SCRIPT))
    paths = {reg.get("path") for reg in doc["regions"]}
    assert STACK_TARGET in paths, sorted(p for p in paths if p)[:10]
    assert not any(p and p.endswith("/sleep") for p in paths), paths


REPLACE_WHERE = PARK + r"""
{target} <&3 > /dev/null & old=$!
sleep 0.2
in=$(mktemp -u); mkfifo "$in"
{memwalk} where $old - < "$in" > /dev/null 2> "$in.err" & mw=$!
exec 4> "$in"
echo 0x1000 >&4
sleep {settle}
kill $old; wait $old 2>/dev/null || true
echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
{target} <&3 > /dev/null 4>&- & new=$!
[ "$new" = "$old" ] || {{ echo "no reuse: $old $new" >&2; exit 9; }}
echo 0x2000 >&4
exec 4>&-
rc=0; wait $mw || rc=$?
echo "rc=$rc"; cat "$in.err"; rm -f "$in" "$in.err"
kill $new
"""

REPLACE_WATCH = PARK + r"""
{target} <&3 > /dev/null & old=$!
sleep 0.2
{memwalk} watch --interval 0.2 --count 25 $old & mw=$!
sleep {settle}; sleep 0.3
kill $old; wait $old 2>/dev/null || true
echo $((old - 1)) > /proc/sys/kernel/ns_last_pid
{target} <&3 > /dev/null & new=$!
[ "$new" = "$old" ] || {{ echo "no reuse: $old $new" >&2; exit 9; }}
rc=0; wait $mw || rc=$?
echo "rc=$rc"
kill $new
"""


def test_pid_reused_while_read():
    """The target exits and its PID goes to another process while memwalk
    reads: where - says so and exits 1 (not answering for a mix of the
    two); watch ends as the target did, without going on with the new
    process."""
    if not reuse_ok():
        print("  (skipped: needs root, unshare and ns_last_pid)")
        return
    out = in_new_pid_namespace(REPLACE_WHERE).splitlines()
    assert out[0] == "rc=1", out
    assert len(out) == 2 and re.fullmatch(
        r"memwalk: \d+: the process exited while being read.*", out[1]), out
    out = in_new_pid_namespace(REPLACE_WATCH).splitlines()
    assert out[-1] == "rc=0", out
    assert re.fullmatch(r"\(process \d+ exited\)", out[-2]), out
    samples = [ln for ln in out if re.match(r"\s+\d+\.\ds ", ln)]
    assert len(samples) < 25, out   # 25 had it gone on


# ---- size: 60,000 mappings, 1,000 threads ---------------------------------

def kernel_map_count(pid):
    with open(f"/proc/{pid}/maps", "rb") as f:
        return f.read().count(b"\n")


def test_sixty_thousand_mappings():
    """Every command on a target with 60,000 more mappings: complete."""
    with Started([TARGET, "--maps", "60000"]) as t:
        doc = json.loads(memwalk_ok("--json", t.pid))
        assert len(doc["regions"]) == kernel_map_count(t.pid), \
            len(doc["regions"])
        check_regions(doc["regions"])
        doc = json.loads(memwalk_ok("-x", "--json", t.pid))
        assert len(doc["regions"]) >= 60000
        assert all("rss" in reg for reg in doc["regions"][:10]), \
            doc["regions"][0]
        doc = json.loads(memwalk_ok("stack", "--json", t.pid))
        assert doc["threads"][0]["frames"], doc["threads"][0]
        snap = memwalk_ok("snap", t.pid)
        assert len(json.loads(snap)["regions"]) >= 60000


def test_thousand_threads():
    """1,000 threads: each with its own stack in the map, in stack and in
    stack --no-stop; all running afterwards."""
    with Started([STACK_TARGET, "--threads", "1000", "--chain", "2"]) as t:
        time.sleep(0.5)
        doc = json.loads(memwalk_ok("--json", t.pid))
        tids = {int(x) for x in os.listdir(f"/proc/{t.pid}/task")}
        stacks = {r["tid"] for r in doc["regions"]
                  if r["kind"] == "thread-stack"}
        assert stacks == tids - {t.pid}, (len(stacks), len(tids))
        doc = json.loads(memwalk_ok("stack", "--json", t.pid))
        assert len(doc["threads"]) == 1001, len(doc["threads"])
        named = sum("chain_b" in [f.get("function") for f in th["frames"]]
                    for th in doc["threads"])
        assert named == 1001, named      # the main thread parks there too
        assert_running(t.pid)
        doc = json.loads(memwalk_ok("stack", "--no-stop", "--json", t.pid))
        assert len(doc["threads"]) == 1001
        assert sum(th["used"] > 0 for th in doc["threads"]) >= 1000


# ---- ptrace safety under load ---------------------------------------------

def test_signals_under_load():
    """The stack issue's safety test while two CPU hogs compete for the
    cores: memwalk killed mid-walk, the target still runs, every time."""
    hogs = [subprocess.Popen(["sh", "-c", "while :; do :; done"])
            for _ in range(2)]
    try:
        with Started([STACK_TARGET, "--threads", "100", "--chain", "10",
                      "--spin"]) as t:
            for i in range(rounds(40)):
                sig = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
                       signal.SIGKILL, signal.SIGPIPE)[i % 5]
                args = (["stack"], ["--stop"], ["stack", "--json"])[i % 3]
                p = subprocess.Popen([MEMWALK, *args, str(t.pid)],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                time.sleep((i % 10) * 0.003)
                p.send_signal(sig)
                rc = p.wait(30)
                assert rc in (0, -sig), (sig, rc)
                assert_running(t.pid)
            assert t.p.poll() is None
    finally:
        for h in hogs:
            h.kill()
            h.wait()


# ---- closed and full outputs, huge inputs ---------------------------------

def test_closed_stdout():
    """A reader that goes away: killed by SIGPIPE as cat would be, or,
    with SIGPIPE ignored, one line about the broken pipe and exit 1."""
    with Started([TARGET, "--maps", "3000", "--threads", "2"]) as t:
        for args in ([], ["-x"], ["--json"], ["stack"], ["layout"],
                     ["snap"], ["where", "-"]):
            stdin = "0x1000\n" * 200000 if args == ["where", "-"] else None
            argv = ["where", str(t.pid), "-"] if stdin else [*args, str(t.pid)]
            for ignore in (False, True):
                r = closed_pipe_run(argv, stdin, ignore)
                if ignore:
                    assert r[0] == 1, (args, r)
                    assert re.fullmatch(r"memwalk: .*[Bb]roken pipe\n",
                                        r[1]), (args, r)
                else:
                    assert r[0] == -signal.SIGPIPE, (args, r)
            assert_running(t.pid)


def closed_pipe_run(args, stdin, ignore_sigpipe):
    """memwalk with its stdout a pipe whose reader closed at once."""
    rd, wr = os.pipe()
    os.close(rd)
    pre = (lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN)) \
        if ignore_sigpipe else (lambda: signal.signal(signal.SIGPIPE,
                                                      signal.SIG_DFL))
    p = subprocess.Popen([MEMWALK, *args], stdout=wr,
                         stdin=subprocess.PIPE if stdin else None,
                         stderr=subprocess.PIPE, text=True, preexec_fn=pre)
    os.close(wr)
    try:
        _, err = p.communicate(stdin, timeout=60)
    except BrokenPipeError:
        err = p.stderr.read()
        p.wait(60)
    return p.returncode, err


def test_full_stdout():
    """stdout on /dev/full: one line naming the error, exit 1."""
    with Started([TARGET]) as t:
        for args in ([], ["-x", "--json"], ["stack"], ["snap"],
                     ["arenas"], ["layout"]):
            with open("/dev/full", "w") as full:
                r = subprocess.run([MEMWALK, *args, str(t.pid)], stdout=full,
                                   stderr=subprocess.PIPE, text=True,
                                   timeout=60)
            assert r.returncode == 1, (args, r)
            assert re.fullmatch(r"memwalk: .*No space left on device\n",
                                r.stderr), (args, r.stderr)


def test_huge_stdin():
    """where -: 200,000 addresses and a 3 MiB line, streamed: every
    address answered, the long line refused in one message, memory flat."""
    with Started([TARGET]) as t:
        heap = next(line.split()[1] for line in t.lines
                    if line.startswith("heap "))
        n = 200_000
        data = (heap + "\n") * (n // 2) + "x" * (3 << 20) + "\n" + \
            (heap + "\n") * (n // 2)
        p = subprocess.run(["/usr/bin/time", "-f", "%M", MEMWALK, "where",
                            str(t.pid), "-"], input=data,
                           capture_output=True, text=True, timeout=300)
    lines = [x for x in p.stderr.splitlines()
             if not x.startswith("Command exited")]     # time(1)'s
    assert p.returncode == 2, (p.returncode, lines[:3])
    assert len(lines) == 2 and re.fullmatch(
        r"memwalk: stdin:\d+: line longer than 1048576 bytes, skipped",
        lines[0]), lines[:3]
    assert p.stdout.count("\n") == n, p.stdout.count("\n")
    maxrss_kb = int(lines[1])
    assert maxrss_kb < 64 * 1024, maxrss_kb    # streamed, not slurped


if __name__ == "__main__":
    sys.exit(mwtest.main(globals()))
