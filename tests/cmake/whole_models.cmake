# whole_models.cmake — whole models on the CPU executor against PyTorch eval-mode outputs
# (models issue, "Correctness against real references"): relative error <= 1e-4.
#   whole_model_<name>      small models committed under tests/models/ (every required op
#                           between them), via the library, batch 3 and batch 1
#   whole_model_cli_<name>  the same through `baleen model run --threads 2`
#   whole_model_<big>       torchvision resnet18/resnet50/mobilenet_v2/mobilenet_v3_small/
#                           efficientnet_b0 and the CNN14-style network, read from
#                           BL_TEST_MODELS_DIR (made by scripts/make-test-models.sh); they skip
#                           (exit 77) with a message while the files are absent.
# References: tests/models/make_whole_models.py (see tests/models/README.md).
set(BL_TEST_MODELS_DIR "${CMAKE_SOURCE_DIR}/build/test-models" CACHE PATH
    "folder of the big whole-model references (scripts/make-test-models.sh writes them)")
set(BL_WM_SRC ${CMAKE_SOURCE_DIR}/tests/models)
add_executable(whole_model_check ${BL_WM_SRC}/whole_model_check.c)
target_link_libraries(whole_model_check PRIVATE baleen_lib)

file(GLOB BL_WM_SMALL CONFIGURE_DEPENDS ${BL_WM_SRC}/*.onnx)
foreach(f ${BL_WM_SMALL})
  get_filename_component(n ${f} NAME_WE)
  add_test(NAME whole_model_${n}
           COMMAND whole_model_check ${BL_WM_SRC}/${n}.onnx ${BL_WM_SRC}/${n}.in.npy ${BL_WM_SRC}/${n}.out.npy)
  add_test(NAME whole_model_cli_${n}
           COMMAND sh -c "d=$(mktemp -d) && \"$0\" model run \"$2/$3.onnx\" --input \"$2/$3.in.npy\" --output \"$d/out.npy\" --threads 2 && \"$1\" --compare \"$d/out.npy\" \"$2/$3.out.npy\"; rc=$?; rm -rf \"$d\"; exit $rc"
                   $<TARGET_FILE:baleen> $<TARGET_FILE:whole_model_check> ${BL_WM_SRC} ${n})
  set_tests_properties(whole_model_${n} whole_model_cli_${n} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}"
                       LABELS "models")
endforeach()

foreach(n resnet18 resnet50 mobilenet_v2 mobilenet_v3_small efficientnet_b0 cnn14)
  add_test(NAME whole_model_${n}
           COMMAND whole_model_check ${BL_TEST_MODELS_DIR}/${n}.onnx ${BL_TEST_MODELS_DIR}/${n}.in.npy
                   ${BL_TEST_MODELS_DIR}/${n}.out.npy)
  set_tests_properties(whole_model_${n} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS "models;big"
                       SKIP_RETURN_CODE 77 TIMEOUT 600)
endforeach()
