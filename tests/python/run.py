#!/usr/bin/env python3
"""Run the Python binding's tests (stdlib unittest).

Prints one line per test: ``PASS <id>``, ``FAIL <id>: <reason>`` or
``SKIP <id>: <reason>``, then a summary; exits 1 if any test failed.
Uses ``<repo>/python`` (repo = two levels above this file) and, unless
$LLMCORE_SANDBOX_LIBRARY says otherwise, the in-tree build of the library.

    python3 tests/python/run.py [-v] [pattern ...]

Patterns (optional) select tests whose id contains any of them.
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "python"))
sys.path.insert(0, HERE)


def _short(err_text):
    """The last line of a traceback (the exception), shortened."""
    lines = [l for l in err_text.strip().splitlines() if l.strip()]
    last = lines[-1] if lines else "unknown failure"
    return last if len(last) <= 300 else last[:297] + "..."


class LineResult(unittest.TestResult):
    def __init__(self, stream, verbose):
        super().__init__()
        self.stream = stream
        self.verbose = verbose
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def _line(self, kind, test, reason=None):
        self.counts[kind] += 1
        text = "%s %s" % (kind, test.id())
        if reason:
            text += ": " + reason.replace("\n", " ")
        self.stream.write(text + "\n")
        self.stream.flush()

    def addSuccess(self, test):
        super().addSuccess(test)
        self._line("PASS", test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._line("FAIL", test, _short(self.failures[-1][1]))
        if self.verbose:
            self.stream.write(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self._line("FAIL", test, "error: " + _short(self.errors[-1][1]))
        if self.verbose:
            self.stream.write(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._line("SKIP", test, reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._line("PASS", test)

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._line("FAIL", test, "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "failure" if issubclass(err[0], test.failureException) else "error"
            text = self._exc_info_to_string(err, test)
            self._line("FAIL", subtest, ("" if kind == "failure" else "error: ") + _short(text))
            if self.verbose:
                self.stream.write(text)


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


def main(argv):
    verbose = "-v" in argv
    patterns = [a for a in argv if a != "-v"]
    loader = unittest.TestLoader()
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    tests = list(_flatten(suite))
    # Import errors surface as unittest.loader._FailedTest: keep them (they fail).
    if patterns:
        tests = [t for t in tests if any(p in t.id() for p in patterns)]
    result = LineResult(sys.stdout, verbose)
    unittest.TestSuite(tests).run(result)
    c = result.counts
    print("%d passed, %d failed, %d skipped" % (c["PASS"], c["FAIL"], c["SKIP"]))
    return 1 if c["FAIL"] or not tests else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
