# cli_args.cmake — CLI tests of the shared option parser (core/cli_args.c) as the commands use
# it, and of a stopped `baleen synth`. Each case of tests/cli/args.sh runs in its own folder:
#   twice     a non-repeatable option given twice is refused, naming both occurrences
#   once      -o, --backend, --threads, --progress, --set all take effect (plan, run.json)
#   flags     a flag's bad value names the flag as typed (--backend gpu), not its --set
#   set       a bad --set names the --set argument, also against a file's or card's key
#   long      a 1.5 kB -o and a 20 kB command line, neither cut short (run.json)
#   duration  features --duration 0 is a usage error; absent means to the end
#   synth_stop SIGTERM/SIGINT stop a long synth: exit 3, no temporary left (unnamed and
#             named); kill -9 leaves nothing where the filesystem has O_TMPFILE
# (The unit test of the parser itself is tests/unit/test_cli_args.c.)
set(BL_ARGS_WORK ${CMAKE_CURRENT_BINARY_DIR}/args_cli)
foreach(case twice once flags set long duration synth_stop)
  add_test(NAME args_cli_${case}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/args.sh $<TARGET_FILE:baleen> ${CMAKE_SOURCE_DIR}
                   ${BL_ARGS_WORK}/${case} ${case})
  set_tests_properties(args_cli_${case} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli TIMEOUT 120)
endforeach()
