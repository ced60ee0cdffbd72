# tap.awk - cmocka's TAP output (CMOCKA_MESSAGE_OUTPUT=TAP) as the suite's
# PASS/FAIL/SKIP lines; -v p=PREFIX names each test with a prefix. Other
# lines pass through.
/^ok [0-9]+ - .*# SKIP/ { sub(/^ok [0-9]+ - /, ""); print "SKIP " p $0; next }
/^ok [0-9]+ - / { sub(/^ok [0-9]+ - /, ""); print "PASS " p $0; next }
/^not ok [0-9]+ - / { sub(/^not ok [0-9]+ - /, ""); print "FAIL " p $0; next }
{ print }
