# docs/cli.md is generated from the binary's --help texts; fail when it is out of date.
add_test(NAME cli_doc_current
         COMMAND sh -c "bash '${CMAKE_SOURCE_DIR}/scripts/gen-cli-doc.sh' '$<TARGET_FILE:baleen>' | diff -u '${CMAKE_SOURCE_DIR}/docs/cli.md' - && echo 'docs/cli.md is current'")
set_tests_properties(cli_doc_current PROPERTIES LABELS cli)

# Global CLI behaviour: --version names the commit, unknown commands/options exit 1.
add_test(NAME cli_version COMMAND baleen --version)
set_tests_properties(cli_version PROPERTIES LABELS cli PASS_REGULAR_EXPRESSION "^baleen [0-9]+\\.[0-9]+\\.[0-9]+ \\(commit [0-9a-f]+")
add_test(NAME cli_unknown_command COMMAND sh -c "'$<TARGET_FILE:baleen>' frobnicate; test $? -eq 1")
set_tests_properties(cli_unknown_command PROPERTIES LABELS cli)
add_test(NAME cli_unknown_option COMMAND sh -c "'$<TARGET_FILE:baleen>' --frob 2>&1 | grep -q \"unknown option '--frob'\" && '$<TARGET_FILE:baleen>' --frob; test $? -eq 1")
set_tests_properties(cli_unknown_option PROPERTIES LABELS cli)
add_test(NAME cli_help COMMAND baleen --help)
set_tests_properties(cli_help PROPERTIES LABELS cli PASS_REGULAR_EXPRESSION "examples:")
