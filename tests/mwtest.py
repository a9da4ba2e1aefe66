"""What the Python test scripts share: the runner of their test_*
functions, and a target's thread states (nothing left stopped).

A script ends with sys.exit(mwtest.main(globals())): each test_* runs in
name order (or those named on the command line), a failure is printed and
the run goes on; the last line is 'N passed, N failed'.
"""
import os
import shutil
import sys
import time

# Under --enable-valgrind (MW_VALGRIND set), $MEMWALK is tests/vgmemwalk:
# memwalk under memcheck, writing any report to $MW_VG_LOGDIR. Each
# script gets its own directory, emptied here and read by main() at the
# end: a report there is a failure of the script.
VALGRIND = bool(os.environ.get("MW_VALGRIND"))
if VALGRIND:
    VG_LOGDIR = os.path.join(
        os.environ.get("top_builddir", "."), "tests", "vglogs",
        os.path.splitext(os.path.basename(sys.argv[0]))[0])
    shutil.rmtree(VG_LOGDIR, ignore_errors=True)
    os.makedirs(VG_LOGDIR)
    os.environ["MW_VG_LOGDIR"] = VG_LOGDIR


def valgrind_reports():
    """The non-empty memcheck logs of this script's memwalk runs."""
    if not VALGRIND:
        return []
    found = []
    for name in sorted(os.listdir(VG_LOGDIR)):
        path = os.path.join(VG_LOGDIR, name)
        with open(path, errors="replace") as f:
            text = f.read()
        if text.strip():
            found.append((path, text))
    return found


def main(names, cleanup=None):
    tests = [(n, f) for n, f in sorted(names.items())
             if n.startswith("test_") and callable(f)]
    only = sys.argv[1:]
    passed = failed = 0
    try:
        for name, fn in tests:
            if only and name not in only:
                continue
            t0 = time.monotonic()
            try:
                fn()
            except Exception as e:  # report and go on
                failed += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}")
            else:
                passed += 1
                print(f"ok   {name} ({time.monotonic() - t0:.1f} s)")
    finally:
        if cleanup is not None:
            cleanup()
    reports = valgrind_reports()
    for path, text in reports[:5]:
        print(f"FAIL memcheck report in {path}:")
        print("\n".join(text.splitlines()[:60]))
    if reports:
        failed += 1
        print(f"FAIL valgrind: {len(reports)} memwalk runs with a report")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def task_states(pid):
    """tid -> state letter of each thread of pid; {} when it is gone."""
    states = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return states
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                states[int(tid)] = f.read().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            pass
    return states


def assert_running(pid):
    """No thread of pid is left traced or stopped (t, T)."""
    states = {}
    for _ in range(200):
        states = task_states(pid)
        if not any(st in "tT" for st in states.values()):
            return
        time.sleep(0.01)
    raise AssertionError(f"threads left stopped: {states}")
