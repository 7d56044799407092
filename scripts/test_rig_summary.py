#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Unit tests of scripts/rig-summary.py, the rig's counter of results: one
small hand-made serial log per rule, with the rig's own SPLAT_RE."""
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import unittest

# Nothing written into the source tree.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
SUMMARY = os.path.join(HERE, "rig-summary.py")
spec = importlib.util.spec_from_file_location("rig_summary", SUMMARY)
rig_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rig_summary)


def rig_splat_re():
    """SPLAT_RE as scripts/rig.sh builds it."""
    with open(os.path.join(HERE, "rig.sh"), encoding="utf-8") as f:
        parts = re.findall(r"^SPLAT_RE\+?='([^']*)'$", f.read(), re.M)
    assert parts, "no SPLAT_RE in rig.sh"
    return "".join(parts)


SPLAT_RE = rig_splat_re()
BOOT = """[    0.000000] Linux version 6.12.0
HVX-INIT uptime=3.10 kernel=6.12.0 mode=check cpus=2 cpu=svm npt=yes
HVX-INSMOD-OK
HVX-SUITE-BEGIN {tests}
"""
END = """HVX-SUITE-END
HVX-KMEMLEAK clean
HVX-POWEROFF uptime=99.00
"""


def test(name, body, rc=0):
    """The lines of one test's run."""
    return "HVX-TEST-BEGIN %s\n%sHVX-TEST-END %s rc=%d start=1.0 end=2.0\n" % (
        name, body, name, rc)


class Summary(unittest.TestCase):
    def summary(self, log, tests="", allow=""):
        return rig_summary.summarise(log.encode("latin-1"), tests, SPLAT_RE, allow)

    def run_of(self, *tests_, end=END, suite=None):
        """The summary of a whole run of the given tests' runs."""
        names = suite if suite is not None else " ".join(
            re.match(r"HVX-TEST-BEGIN (\S+)", t).group(1) for t in tests_)
        return self.summary(BOOT.format(tests=names) + "".join(tests_) + end)

    def test_plain_pass(self):
        t = test("a_test", "TAP version 13\n1..2\n# Starting 2 tests\n"
                 "ok 1 a_test.one\nok 2 a_test.two\n# Totals: pass:2\n")
        self.assertEqual(self.run_of(t), ["PASS 2 a_test"])

    def test_no_results_rc0_passes_once(self):
        self.assertEqual(self.run_of(test("a_test", "hello\n")), ["PASS 1 a_test"])

    def test_no_results_rc4_skips_once(self):
        self.assertEqual(self.run_of(test("a_test", "# no SVM\n", rc=4)),
                         ["SKIP 1 a_test"])

    def test_no_results_other_rc_fails(self):
        self.assertEqual(self.run_of(test("a_test", "", rc=1)),
                         ["FAIL 1 a_test: exited with rc=1"])

    def test_rc_fails_only_without_failed_results(self):
        t = test("a_test", "1..2\nok 1 x\nnot ok 2 y\n", rc=1)
        self.assertEqual(self.run_of(t), ["PASS 1 a_test", "FAIL 1 a_test: not ok 2 y"])

    def test_rc4_with_results_counts_results(self):
        t = test("a_test", "1..1\nok 1 x # SKIP no NPT\n", rc=4)
        self.assertEqual(self.run_of(t), ["SKIP 1 a_test"])

    def test_nested_subtests_count_at_the_outer_level(self):
        t = test("a_test", "1..2\n"
                 "    1..3\n    ok 1 sub1\n    not ok 2 sub2\n    ok 3 sub3\n"
                 "not ok 1 a_test.outer\n"
                 "\t1..1\n\tok 1 sub\n"
                 "ok 2 a_test.other\n", rc=1)
        self.assertEqual(self.run_of(t), ["PASS 1 a_test", "FAIL 1 a_test: not ok 1 a_test.outer"])

    def test_indented_results_alone_count(self):
        # The smallest indentation seen, whatever it is.
        t = test("a_test", "  1..2\n  ok 1 x\n  ok 2 y\n")
        self.assertEqual(self.run_of(t), ["PASS 2 a_test"])

    def test_skip_and_xfail(self):
        t = test("a_test", "1..4\nok 1 x # SKIP no VMX\nok 2 y #skip\n"
                 "ok 3 z # XFAIL known\nnot ok 4 w # SKIP disabled\n")
        self.assertEqual(self.run_of(t), ["PASS 1 a_test", "SKIP 3 a_test"])

    def test_not_ok(self):
        t = test("a_test", "1..3\nok 1 x\nnot ok 2 y\nnot ok 3 z\n", rc=1)
        self.assertEqual(self.run_of(t), ["PASS 1 a_test", "FAIL 1 a_test: not ok 2 y",
                                          "FAIL 1 a_test: not ok 3 z"])

    def test_comments_and_lookalikes_are_not_results(self):
        t = test("a_test", "1..1\n# ok 2 comment\nok 1 x\nok x\nokay 3\nok 4x\n")
        self.assertEqual(self.run_of(t), ["PASS 1 a_test"])

    def test_missing_planned_results(self):
        t = test("a_test", "1..8\nok 1 x\nok 2 y\nok 3 z\nok 4 w\nok 5 v\n")
        self.assertEqual(self.run_of(t), [
            "PASS 5 a_test", "FAIL 3 a_test: 3 of 8 planned results never came"])

    def test_plan_of_nested_level_alone_is_not_checked(self):
        # The plan at the outer level is missing: nothing to compare with.
        t = test("a_test", "    1..5\nok 1 x\n")
        self.assertEqual(self.run_of(t), ["PASS 1 a_test"])

    def test_timeout(self):
        t = test("a_test", "1..3\nok 1 x\nHVX-TIMEOUT a_test after 300s\n", rc=143)
        self.assertEqual(self.run_of(t), [
            "PASS 1 a_test", "FAIL 2 a_test: 2 of 3 planned results never came (timed out)"])

    def test_timeout_without_plan(self):
        t = test("a_test", "HVX-TIMEOUT a_test after 300s\n", rc=0)
        self.assertEqual(self.run_of(t), ["FAIL 1 a_test: timed out"])

    def test_never_returned(self):
        log = BOOT.format(tests="a_test") + "HVX-TEST-BEGIN a_test\n1..2\nok 1 x\n"
        self.assertEqual(self.summary(log), [
            "PASS 1 a_test",
            "FAIL 1 a_test: 1 of 2 planned results never came (the test never returned)",
            "FAIL 1 run: did not reach its end (crash or timeout)"])

    def test_never_returned_without_plan(self):
        log = BOOT.format(tests="a_test") + "HVX-TEST-BEGIN a_test\nok 1 x\n"
        self.assertEqual(self.summary(log), [
            "PASS 1 a_test", "FAIL 1 a_test: never returned (kernel crash or hang)",
            "FAIL 1 run: did not reach its end (crash or timeout)"])

    def test_stuck(self):
        log = (BOOT.format(tests="a_test") + "HVX-TEST-BEGIN a_test\n"
               "HVX-TIMEOUT a_test after 300s\n"
               "HVX-STUCK a_test: cannot be killed; kernel stacks:\n"
               "[  301.000000] Call Trace:\n[  301.000001] WARNING: in the dump\n"
               "HVX-POWEROFF uptime=302.00 (stuck)\n")
        self.assertEqual(self.summary(log), [
            "FAIL 1 a_test: stuck in the kernel, could not be killed",
            "FAIL 1 run: did not reach its end (crash or timeout)"])

    def test_bail_out(self):
        t = test("a_test", "1..1\nBail out! no /dev/hvx\n", rc=1)
        self.assertEqual(self.run_of(t), [
            "FAIL 1 a_test: Bail out! no /dev/hvx",
            "FAIL 1 a_test: 1 of 1 planned results never came"])

    def test_splat_in_a_test(self):
        t = test("a_test", "1..1\n[   12.345678] WARNING: CPU: 1 PID: 99 at kmod/x.c:1 f+0x1\n"
                 "[   12.345679] Call Trace:\nok 1 x\n")
        self.assertEqual(self.run_of(t), [
            "FAIL 1 kernel splat during a_test: WARNING: CPU: 1 PID: 99 at kmod/x.c:1 f+0x1",
            "PASS 1 a_test"])

    def test_splat_during_boot(self):
        log = ("[    1.000000] BUG: kernel NULL pointer dereference\n"
               + BOOT.format(tests="a_test") + test("a_test", "ok 1 x\n") + END)
        self.assertEqual(self.summary(log), [
            "FAIL 1 kernel splat during boot: BUG: kernel NULL pointer dereference",
            "PASS 1 a_test"])

    def test_splat_at_the_end(self):
        end = "[   99.000000] general protection fault: 0000 [#1] SMP\n" + END
        self.assertEqual(self.run_of(test("a_test", "ok 1 x\n"), end=end), [
            "PASS 1 a_test",
            "FAIL 1 kernel splat during the end of the run: general protection fault: "
            "0000 [#1] SMP"])

    def test_splat_counts_once_per_section(self):
        t = (test("a_test", "[ 5.0] WARNING: one\n[ 5.1] WARNING: two\nok 1 x\n")
             + test("b_test", "[ 6.0] INFO: task hung\nok 1 y\n"))
        self.assertEqual(self.run_of(t), [
            "FAIL 1 kernel splat during a_test: WARNING: one", "PASS 1 a_test",
            "FAIL 1 kernel splat during b_test: INFO: task hung", "PASS 1 b_test"])

    def test_splat_words_in_test_output_are_not_splats(self):
        t = test("a_test", "# WARNING: expected a Call Trace: here\nok 1 x\n")
        self.assertEqual(self.run_of(t), ["PASS 1 a_test"])

    def test_allowed_splat(self):
        log = (BOOT.format(tests="a_test") + test(
            "a_test", "[ 5.0] WARNING: benign emulator quirk\nok 1 x\n") + END)
        self.assertEqual(self.summary(log, allow="benign emulator"), ["PASS 1 a_test"])
        self.assertEqual(self.summary(log, allow="something else"), [
            "FAIL 1 kernel splat during a_test: WARNING: benign emulator quirk",
            "PASS 1 a_test"])

    OOM = ("[ 20.000000] hvx_torture invoked oom-killer: gfp_mask=0xcc0, order=0\n"
           "[ 20.000001] CPU: 0 PID: 77 Comm: hvx_torture\n"
           "[ 20.000002] Call Trace:\n"
           "[ 20.000003]  <TASK>\n"
           "[ 20.000004]  dump_stack_lvl+0x1\n")

    def test_oom_in_a_memory_cgroup_is_not_a_splat(self):
        t = test("torture_test", self.OOM
                 + "[ 20.000005] memory: usage 16384kB, limit 16384kB, failcnt 9\n"
                 "[ 20.000006] Memory cgroup out of memory: Killed process 77\nok 1 memcg_limit\n")
        self.assertEqual(self.run_of(t), ["PASS 1 torture_test"])

    def test_oom_of_the_machine_is_a_splat(self):
        t = test("torture_test", self.OOM + "[ 20.000005] Mem-Info:\n"
                 "[ 20.000006] Out of memory: Killed process 77\nok 1 memcg_limit\n")
        self.assertEqual(self.run_of(t), [
            "FAIL 1 kernel splat during torture_test: Call Trace:", "PASS 1 torture_test"])

    def test_oom_report_cut_short_is_a_splat(self):
        # The test ends before the report says whose limit it was.
        t = test("torture_test", self.OOM + "ok 1 memcg_limit\n")
        self.assertEqual(self.run_of(t), [
            "FAIL 1 kernel splat during torture_test: Call Trace:", "PASS 1 torture_test"])

    def test_other_splat_inside_an_oom_report_counts(self):
        t = test("torture_test", self.OOM + "[ 20.000005] BUG: sleeping function\n"
                 "[ 20.000006] memory: usage 16384kB, limit 16384kB, failcnt 9\nok 1 x\n")
        self.assertEqual(self.run_of(t), [
            "FAIL 1 kernel splat during torture_test: BUG: sleeping function",
            "PASS 1 torture_test"])

    def test_never_started(self):
        log = BOOT.format(tests="a_test b_test") + test("a_test", "ok 1 x\n") + END
        self.assertEqual(self.summary(log), ["PASS 1 a_test", "FAIL 1 b_test: never started"])

    def test_given_list_wins_over_the_suite_line(self):
        log = BOOT.format(tests="a_test") + test("a_test", "ok 1 x\n") + END
        self.assertEqual(self.summary(log, tests="a_test c_test@shadow"), [
            "PASS 1 a_test", "FAIL 1 c_test@shadow: never started"])

    def test_no_suite_end(self):
        log = BOOT.format(tests="a_test") + test("a_test", "ok 1 x\n")
        self.assertEqual(self.summary(log), [
            "PASS 1 a_test", "FAIL 1 run: did not reach its end (crash or timeout)"])

    def test_no_poweroff(self):
        log = BOOT.format(tests="a_test") + test("a_test", "ok 1 x\n") + "HVX-SUITE-END\n"
        self.assertEqual(self.summary(log), [
            "PASS 1 a_test", "FAIL 1 run: did not reach its end (crash or timeout)"])

    def test_insmod_failed(self):
        log = BOOT.replace("HVX-INSMOD-OK", "HVX-INSMOD-FAILED hvx.ko rc=1").format(
            tests="") + END
        self.assertEqual(self.summary(log), ["FAIL 1 insmod: HVX-INSMOD-FAILED hvx.ko rc=1"])

    def test_kmemleak_found(self):
        end = "HVX-SUITE-END\nHVX-KMEMLEAK-FOUND 3 objects\nHVX-POWEROFF uptime=9\n"
        self.assertEqual(self.run_of(test("a_test", "ok 1 x\n"), end=end), [
            "PASS 1 a_test", "FAIL 1 kmemleak after the suite: 3 objects (report in the log)"])

    def test_guest_left_at_poweroff(self):
        end = "HVX-SUITE-END\nHVX-POWEROFF-GUEST did not start: no\nHVX-POWEROFF uptime=9\n"
        self.assertEqual(self.run_of(test("a_test", "ok 1 x\n"), end=end), [
            "PASS 1 a_test",
            "FAIL 1 the guest left running at poweroff: HVX-POWEROFF-GUEST did not start: no"])

    def test_terminal_resets_and_crs_are_cleaned(self):
        log = (BOOT.format(tests="a_test") + "\x1bc\x1b[0mHVX-TEST-BEGIN a_test\r\n"
               "ok 1 x\r\n\x1b[?25lHVX-TEST-END a_test rc=0\r\n" + END)
        self.assertEqual(self.summary(log), ["PASS 1 a_test"])

    def test_marker_after_unterminated_output(self):
        log = (BOOT.format(tests="a_test") + "HVX-TEST-BEGIN a_test\nok 1 x\n"
               "partial lineHVX-TEST-END a_test rc=0\n" + END)
        self.assertEqual(self.summary(log), ["PASS 1 a_test"])

    def test_results_outside_tests_do_not_count(self):
        log = BOOT.format(tests="a_test") + "ok 1 stray\nnot ok 2 stray\n" + \
            test("a_test", "ok 1 x\n") + "not ok 3 stray\n" + END
        self.assertEqual(self.summary(log), ["PASS 1 a_test"])


class Command(unittest.TestCase):
    """The program as rig.sh runs it."""

    def test_command_line(self):
        log = BOOT.format(tests="a_test b_test") + test("a_test", "not ok 1 x\n", rc=1) + END
        with tempfile.NamedTemporaryFile("w", suffix=".log") as f:
            f.write(log)
            f.flush()
            out = subprocess.run([sys.executable, SUMMARY, "--tests", "", "--splat", SPLAT_RE,
                                  "--allow", "", f.name], capture_output=True, text=True,
                                 check=True).stdout
        self.assertEqual(out, "FAIL 1 a_test: not ok 1 x\nFAIL 1 b_test: never started\n")


class WhyFailed(unittest.TestCase):
    """rig.sh's lines under the results on why a test case failed."""

    CASE = """#  RUN           mb.case_one ...
# launch: timed out after 120 s
# launch: its output ends: mbkernel: ok pic
guest output that is not shown
# a_test.c:10:case_one:status -1
# a_test.c:12:case_one:Expected 43 (43) == l->status (-1)
#          FAIL  mb.case_one
not ok 1 mb.case_one
#  RUN           mb.case_two ...
# a_test.c:20:case_two:elsewhere
ok 2 mb.case_two
"""

    def parse(self, body):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "k-svm-check.log")
            with open(log, "w", encoding="latin-1") as f:
                f.write(BOOT.format(tests="a_test") + body + END)
            return subprocess.run([os.path.join(HERE, "rig.sh"), "parse", log],
                                  capture_output=True, text=True, check=False).stdout

    def test_failed_case_explained(self):
        out = self.parse(test("a_test", self.CASE, rc=1))
        self.assertIn("""   FAIL a_test: not ok 1 mb.case_one
   why (k-svm-check.log) a_test: mb.case_one:
     # launch: timed out after 120 s
     # launch: its output ends: mbkernel: ok pic
     # a_test.c:10:case_one:status -1
     # a_test.c:12:case_one:Expected 43 (43) == l->status (-1)
skipped: 0
1 passed, 1 failed
""", out)
        self.assertNotIn("not shown", out)
        self.assertNotIn("elsewhere", out)

    def test_passing_run_has_no_why(self):
        out = self.parse(test("a_test", "ok 1 x\n"))
        self.assertNotIn("why", out)


if __name__ == "__main__":
    unittest.main()
