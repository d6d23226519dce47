# onnx_conformance.cmake — the official ONNX backend node tests on the CPU executor.
# export_node_tests.py writes the cases listed in tests/onnx_conformance/selected_tests.txt
# (from the `onnx` PyPI package) into a temporary folder, then run_node_tests checks every
# output. Python: $BL_PYTHON, else the repository's .venv, else python3. The test is skipped
# (exit 77) only when the onnx package is absent.
add_executable(run_node_tests ${CMAKE_SOURCE_DIR}/tests/onnx_conformance/run_node_tests.c)
target_link_libraries(run_node_tests PRIVATE baleen_lib)
set(BL_CONF_DIR ${CMAKE_SOURCE_DIR}/tests/onnx_conformance)
add_test(NAME onnx_node_conformance
         COMMAND sh -c "
           py=\"\${BL_PYTHON:-}\"
           if [ -z \"$py\" ]; then
             if [ -x \"$1/.venv/bin/python\" ]; then py=\"$1/.venv/bin/python\"; else py=python3; fi
           fi
           out=\"$3/onnx_node_cases\"
           rm -rf \"$out\"
           \"$py\" \"$2/export_node_tests.py\" \"$out\" --list \"$2/selected_tests.txt\"
           rc=$?
           if [ $rc -eq 77 ]; then echo 'SKIP: the onnx Python package is not installed (pip install onnx)'; exit 77; fi
           if [ $rc -ne 0 ]; then echo \"export_node_tests.py failed ($rc)\"; exit 1; fi
           \"$4\" \"$out\" \"$2/selected_tests.txt\"
           rc=$?
           rm -rf \"$out\"
           exit $rc"
                 sh ${CMAKE_SOURCE_DIR} ${BL_CONF_DIR} ${CMAKE_CURRENT_BINARY_DIR} $<TARGET_FILE:run_node_tests>)
set_tests_properties(onnx_node_conformance PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS conformance
                     SKIP_RETURN_CODE 77 TIMEOUT 600)
