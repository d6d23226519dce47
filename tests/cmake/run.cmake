# run.cmake — CLI tests of `baleen run` (core/cmd_run.c, core/pipeline.c). Each case of
# tests/cli/run.sh builds a small model folder and a few short synth files in its own work
# folder, runs baleen several ways and compares the chunk files byte for byte:
#   basic     rows, headers, a stereo file, run.json        blocks    block-size invariance
#   inflight  files-in-flight invariance                     batch     batch size + threads: 1e-5
#   resume    kill -9 mid-run, --resume, identical chunks;   sigint    SIGINT stops cleanly
#             a changed config is refused                              (exit 3), resume
#   corrupt   bad inputs among good ones: exit 2, errors.csv lock      a second concurrent run
#   diskfull  injected ENOSPC: exit 3, resume → identical    dryrun    plan, nothing written
#   errors    config, backend, model and source errors exit 1
#   features  persist.features files = `baleen features` bytes (mono, stereo); kill -9, resume
#   pair      pair mode (contention: two one-thread executors) = --threads 1, byte for byte
set(BL_RUN_WORK ${CMAKE_CURRENT_BINARY_DIR}/run_cli)
foreach(case basic blocks inflight batch resume sigint corrupt lock diskfull dryrun errors features pair)
  add_test(NAME run_cli_${case}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/run.sh $<TARGET_FILE:baleen> ${CMAKE_SOURCE_DIR}
                   ${BL_RUN_WORK}/${case} ${case})
  set_tests_properties(run_cli_${case} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli TIMEOUT 120)
endforeach()
add_test(NAME run_cli_help COMMAND $<TARGET_FILE:baleen> run --help)
set_tests_properties(run_cli_help PROPERTIES PASS_REGULAR_EXPRESSION "examples:" LABELS cli)
