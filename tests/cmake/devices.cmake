# devices.cmake — the CUDA module loader and `baleen devices` (tests/cli/devices.sh): the
# listing (with the real module when this build has one), each refusal (missing, broken,
# another ABI, another build, no entry points; the stand-ins of tests/cuda/fake_module.c),
# and what `run` does with them.
foreach(v abi build none)
  add_library(bl_fake_${v} MODULE ${CMAKE_SOURCE_DIR}/tests/cuda/fake_module.c)
  target_include_directories(bl_fake_${v} PRIVATE ${CMAKE_SOURCE_DIR})
  set_target_properties(bl_fake_${v} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/fake_cuda)
endforeach()
target_compile_definitions(bl_fake_abi PRIVATE BL_FAKE_ABI_MISMATCH)
target_compile_definitions(bl_fake_build PRIVATE BL_FAKE_OTHER_BUILD)
target_compile_definitions(bl_fake_none PRIVATE BL_FAKE_NO_ENTRY)
foreach(case listing refusals run)
  add_test(NAME devices_cli_${case}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/cli/devices.sh $<TARGET_FILE:baleen> ${CMAKE_SOURCE_DIR}
                   ${CMAKE_CURRENT_BINARY_DIR}/devices_cli/${case} ${CMAKE_CURRENT_BINARY_DIR}/fake_cuda ${case})
  set_tests_properties(devices_cli_${case} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli TIMEOUT 60)
endforeach()
