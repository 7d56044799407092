#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Summarises one check log of scripts/rig.sh: prints "PASS|FAIL|SKIP
<count> <what>" lines and nothing else.

    rig-summary.py --splat RE [--allow RE] [--tests "a b"] LOG

How results are counted (also in Documentation/testing.rst):
 - Only lines between HVX-TEST-BEGIN/END of a test count, and only TAP
   test-case lines ("ok N ...", "not ok N ...", optionally indented) at the
   smallest indentation seen in that test: nested KTAP subtests are details
   of their parent's line, not results of their own.  Plan lines ("1..N")
   and comments ("# ...") are not results.
 - "# SKIP" on a result line makes it a skip, "# XFAIL" a pass.
 - A test fails once per "not ok" line and once per planned result that
   never came.  If that makes no failure but it exited with a code other
   than 0 or 4 (KSFT_SKIP), timed out, or never returned, it fails once.
   With no result lines at all, exit code 0 is one pass, 4 one skip.
 - A test in the list (--tests, else the HVX-SUITE-BEGIN line) that never
   started (the kernel died before) fails once.  A kernel splat (a kernel
   log line matching --splat and not --allow) fails once per section of
   the log it is in (one test's run, the boot, the end).  A failed insmod
   of hvx.ko, a kmemleak report or a run that never reached its end
   markers fails once.

The log is read as bytes, as the serial line gave them, one character a
byte.  Numbers in it (exit codes, plans) read as C's strtod() reads them.
"""
import argparse
import re
import sys

# Terminal resets the firmware and kernel send, and the serial line's CRs.
TERM_RE = re.compile(r"\x1b(?:c|\[[0-9;?]*[A-Za-z])")
# A kernel log line's timestamp.
TS = r"\[ *[0-9]+\.[0-9]+\]"
TS_RE = re.compile(TS)
TS_PREFIX_RE = re.compile(r"^.*" + TS + " ", re.S)
# A marker may follow unterminated output of the firmware or kernel.
MARKER_IN_RE = re.compile(r".HVX-[A-Z]+-?[A-Z]*", re.S)
MARKER_RE = re.compile(r"HVX-[A-Z-]+(?: |$)")
OOM_RE = re.compile(TS + r" .* invoked oom-killer: ", re.S)
MEMCG_RE = re.compile(TS + r" memory: usage [0-9]+kB, limit [0-9]+kB")
MEMINFO_RE = re.compile(TS + r" Mem-Info:")
TRACE_RE = re.compile(TS + r" Call Trace:")
RESULT_RE = re.compile(r"[ \t]*(?:not )?ok [0-9]+(?:[ \t]|$)")
SKIP_RE = re.compile(r"#[ \t]*[Ss][Kk][Ii][Pp]")
PLAN_RE = re.compile(r"[ \t]*1\.\.[0-9]+")
BAIL_RE = re.compile(r"[ \t]*Bail out!")
NUMBER_RE = re.compile(
    r"[ \t\n\v\f\r]*([+-]?)(?:"
    r"0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?)"
    r"|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(inf(?:inity)?|nan))", re.I)


def clean(line):
    """A log line without terminal control sequences and its CR."""
    line = TERM_RE.sub("", line)
    return line[:-1] if line.endswith("\r") else line


def fields(line):
    """The blank-separated words of a line (awk's $1, $2, ...)."""
    return re.findall(r"[^ \t\n]+", line)


def number(s):
    """The number at the start of s, as strtod() reads it; 0 if none."""
    m = NUMBER_RE.match(s)
    if not m:
        return 0
    sign = -1 if m.group(1) == "-" else 1
    if m.group(2):
        return sign * float.fromhex(m.group(2))
    return sign * float(m.group(3) or m.group(4))


def fmt(x):
    """A number as awk prints it: an integer as one, else like %.6g."""
    if x == x and abs(x) <= 2147483647 and x == int(x):
        return str(int(x))
    return "%.6g" % x


def same(a, b):
    """awk's == on numbers: NaN is neither below nor above anything."""
    return not (a < b or a > b)


class Test:
    """The results seen so far of the test that runs."""

    def __init__(self):
        # Per indentation: passes, skips and the failed lines.
        self.passed = {}
        self.skipped = {}
        self.failed = {}
        self.minind = -1
        self.plan = -1
        self.planind = -1
        self.timedout = False

    def result(self, line):
        stripped = line.lstrip(" \t")
        i = len(line) - len(stripped)
        if self.minind < 0 or i < self.minind:
            self.minind = i
        if SKIP_RE.search(stripped):
            self.skipped[i] = self.skipped.get(i, 0) + 1
        elif stripped.startswith("not ok"):
            self.failed.setdefault(i, []).append(stripped)
        else:
            self.passed[i] = self.passed.get(i, 0) + 1

    def plan_line(self, line):
        stripped = line.lstrip(" \t")
        i = len(line) - len(stripped)
        if self.planind < 0 or i < self.planind:
            self.planind = i
            self.plan = number(stripped[3:])


class Summary:
    def __init__(self, tests, splat, allow, out):
        self.tests = tests
        self.splat = re.compile(splat, re.S)
        self.allow = re.compile(allow, re.S) if allow else None
        self.out = out
        self.sect = "boot"
        self.cur = ""
        self.test = Test()
        self.started = set()
        self.splatted = set()
        self.stuck = False
        self.suite_end = False
        self.poweroff = False
        # An OOM report whose kind is not known yet, and its held trace.
        self.oom = False
        self.oomsect = ""
        self.oomtrace = ""

    def say(self, kind, count, what):
        self.out.append("%s %s %s" % (kind, count, what))

    def fail(self, what):
        self.say("FAIL", 1, what)

    def emit(self, name, rc, ended):
        t = self.test
        self.started.add(name)
        f = n = 0
        if t.minind >= 0:
            i = t.minind
            np, ns = t.passed.get(i, 0), t.skipped.get(i, 0)
            fl = t.failed.get(i, [])
            if np:
                self.say("PASS", np, name)
            if ns:
                self.say("SKIP", ns, name)
            for line in fl:
                self.fail(name + ": " + line)
            f = len(fl)
            n = np + f + ns
        if t.plan >= 0 and (t.planind == t.minind or t.minind < 0) and n < t.plan:
            miss = t.plan - n
            why = " (timed out)" if t.timedout else \
                "" if ended else " (the test never returned)"
            self.say("FAIL", fmt(miss), "%s: %s of %s planned results never came%s"
                     % (name, fmt(miss), fmt(t.plan), why))
            f += miss
        if f > 0:
            return
        if not ended and self.stuck:
            self.fail(name + ": stuck in the kernel, could not be killed")
        elif not ended:
            self.fail(name + ": never returned (kernel crash or hang)")
        elif t.timedout:
            self.fail(name + ": timed out")
        elif not same(rc, 0) and not same(rc, 4):
            self.fail(name + ": exited with rc=" + fmt(rc))
        elif n == 0 and same(rc, 0):
            self.say("PASS", 1, name)
        elif n == 0:
            self.say("SKIP", 1, name)

    def splat_in(self, where, line):
        if where not in self.splatted:
            self.splatted.add(where)
            self.fail("kernel splat during %s: %s"
                      % (where, TS_PREFIX_RE.sub("", line, count=1)))

    def oom_flush(self):
        if self.oom and self.oomtrace:
            self.splat_in(self.oomsect, self.oomtrace)
        self.oom = False
        self.oomtrace = ""

    def line(self, s):
        if MARKER_IN_RE.search(s):
            p = s.find("HVX-")
            if MARKER_RE.match(s, p):
                s = s[p:]
        w = fields(s)
        if s.startswith("HVX-TEST-BEGIN "):
            self.oom_flush()
            self.cur = self.sect = w[1] if len(w) > 1 else ""
            self.test = Test()
        elif s.startswith("HVX-TIMEOUT "):
            self.test.timedout = True
        elif s.startswith("HVX-STUCK "):
            # What follows are stack dumps the init asked for, not splats.
            self.stuck = True
        elif s.startswith("HVX-TEST-END "):
            self.oom_flush()
            rc = w[2] if len(w) > 2 else ""
            self.emit(self.cur, number(rc[3:] if rc.startswith("rc=") else rc), True)
            self.cur = ""
            self.sect = "the end of the run"
        elif s.startswith("HVX-INSMOD-FAILED"):
            self.fail("insmod: " + s)
        elif s.startswith("HVX-SUITE-BEGIN"):
            if self.tests == "":
                self.tests = re.sub(r"^HVX-SUITE-BEGIN *", "", s)
        elif s.startswith("HVX-SUITE-END"):
            self.suite_end = True
        elif s.startswith("HVX-KMEMLEAK-FOUND"):
            w += ["", "", ""]
            self.fail("kmemleak after the suite: %s %s (report in the log)" % (w[1], w[2]))
        elif s.startswith("HVX-POWEROFF-GUEST did not start"):
            self.fail("the guest left running at poweroff: " + s)
        elif s.startswith("HVX-POWEROFF "):
            self.poweroff = True
        # The OOM killer dumps its stack ("Call Trace:") before it says
        # whose limit ran out.  The limit of a memory cgroup (its usage and
        # limit follow the trace) is reached on purpose: torture_test fills
        # one.  An OOM of the whole machine (Mem-Info follows) is a splat.
        # Hold the trace until the report says which; anything else is
        # judged as ever.
        elif OOM_RE.search(s):
            self.oom_flush()
            self.oom = True
            self.oomsect = self.sect
        elif self.oom and MEMCG_RE.search(s):
            self.oom = False
            self.oomtrace = ""
        else:
            self.other(s)

    def other(self, s):
        if self.oom and MEMINFO_RE.search(s):
            self.oom_flush()
        if not self.stuck and self.oom and not self.oomtrace and TRACE_RE.search(s):
            self.oomtrace = s
        elif (not self.stuck and TS_RE.search(s) and self.splat.search(s)
              and not (self.allow and self.allow.search(s))):
            self.splat_in(self.sect, s)
        elif self.cur == "":
            pass
        elif RESULT_RE.match(s):
            self.test.result(s)
        elif PLAN_RE.match(s):
            self.test.plan_line(s)
        elif BAIL_RE.match(s):
            self.fail(self.cur + ": " + s)

    def end(self):
        self.oom_flush()
        if self.cur != "":
            self.emit(self.cur, 0, False)
        for name in fields(self.tests):
            if name not in self.started:
                self.fail(name + ": never started")
        if not self.suite_end or not self.poweroff:
            self.fail("run: did not reach its end (crash or timeout)")


def summarise(data, tests="", splat="", allow=""):
    """The summary lines of a log given as bytes."""
    out = []
    s = Summary(tests, splat, allow, out)
    lines = data.decode("latin-1").split("\n")
    if lines[-1] == "":
        lines.pop()
    for line in lines:
        s.line(clean(line))
    s.end()
    return out


def main():
    ap = argparse.ArgumentParser(description="Summarise a check log of scripts/rig.sh.")
    ap.add_argument("--tests", default="", help="the tests that should run, blank-separated")
    ap.add_argument("--splat", required=True, help="kernel messages that fail the run")
    ap.add_argument("--allow", default="", help="benign messages matching --splat")
    ap.add_argument("log")
    args = ap.parse_args()
    with open(args.log, "rb") as f:
        data = f.read()
    for line in summarise(data, args.tests, args.splat, args.allow):
        sys.stdout.buffer.write(line.encode("latin-1") + b"\n")


if __name__ == "__main__":
    main()
