# bench.cmake — CLI tests of `baleen bench` (core/cmd_bench.c, core/bench*.c); each case of
# tests/cli/bench.sh runs the tiny test model on a few seconds of audio (--repeat 2):
#   json    the JSON report's keys (env, results: batch, realtime_factor, windows_per_s,
#           gflops, peak_rss_mb, stages, latencies) and values; the temporary folder removed
#   svg     the SVG parses as XML (python3 xml.etree), one line per series
#   only    --only pipeline|model|frontend|io, a bare .onnx, --input at another rate in stereo
#   auto    --batch auto: the recommendation is the smallest batch within the best's spread
#   busy    the busy-machine warning with an injected load (BL_TEST_LOADAVG, test builds only),
#           none when quiet; --compete
#   errors  --backend cuda without a CUDA backend, usage errors, a missing model or input
set(BL_BENCH_WORK ${CMAKE_CURRENT_BINARY_DIR}/bench_cli)
foreach(case json svg only auto busy errors)
  add_test(NAME bench_cli_${case}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/bench.sh $<TARGET_FILE:baleen> ${CMAKE_SOURCE_DIR}
                   ${BL_BENCH_WORK}/${case} ${case})
  set_tests_properties(bench_cli_${case} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli TIMEOUT 180)
endforeach()
add_test(NAME bench_cli_help COMMAND $<TARGET_FILE:baleen> bench --help)
set_tests_properties(bench_cli_help PROPERTIES PASS_REGULAR_EXPRESSION "examples:" LABELS cli)
