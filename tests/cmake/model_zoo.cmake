# The shipped default model: its card loads and fits its graph (`baleen model info`), and the
# demo config resolves against it (`baleen run --dry-run`).
add_test(NAME model_zoo_info COMMAND baleen model info ${CMAKE_SOURCE_DIR}/models/zoo/whalecall-small)
set_tests_properties(model_zoo_info PROPERTIES LABELS "models;cli"
                     PASS_REGULAR_EXPRESSION "check:      the card fits the graph")
add_test(NAME model_zoo_demo_dry_run
         COMMAND baleen run ${CMAKE_SOURCE_DIR}/configs/demo.yaml --dry-run --set "sources=[${CMAKE_SOURCE_DIR}/tests/golden/frontend/signal.wav]"
         WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
set_tests_properties(model_zoo_demo_dry_run PROPERTIES LABELS "models;cli" PASS_REGULAR_EXPRESSION "whalecall-small")
