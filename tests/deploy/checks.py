"""The deploy checkers' one reporting rule: "ok   NAME: what" or
"FAIL NAME: what: detail" per check, then "NAME: N passed, M failed",
the line tests/deploy/run.sh reads."""


class Result:
    def __init__(self, name):
        self.name = name
        self.passed = self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {self.name}: {what}")
        else:
            self.failed += 1
            print(f"FAIL {self.name}: {what}{': ' + detail if detail else ''}")
        return ok

    def finish(self):
        """The summary line; the exit status (1 on any failure)."""
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0
