# Sourced by the shell tests: one line per check and the closing summary
# line the runners count. Set CHECK_NAME first ("hybrid", "deploy").
passed=0 failed=0

check() {   # check "what" CONDITION-EXIT-STATUS ["detail"]
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "ok   $CHECK_NAME: $1"
    else
        failed=$((failed + 1)); echo "FAIL $CHECK_NAME: $1${3:+: $3}"
    fi
}
finish() {
    echo "$CHECK_NAME: $passed passed, $failed failed"
    [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
