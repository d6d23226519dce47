# hostile.cmake — the hostile-input classes of issue 10 (tests/hostile/hostile.sh), one test
# per class; bl_mkaudio writes the audio `baleen synth` does not (GSM WAV, MP3, Ogg, float WAV
# with NaN/Inf). docs/reliability.md tabulates the classes.
#   devices      -o onto a device, FIFO, symlink, stdout     names        shared stems, long keys
#   foreign_dir  non-empty folders, --force-dir              long_paths   no truncated paths
#   clip_fail    an uncuttable clip is a warning             memory       estimate vs peak RSS,
#   fifo_loaders every loader refuses a FIFO at once                      refusal, threads 0
#   sizes        declared sizes, big configs, empty models   nonfinite    NaN/Inf samples
#   truncated    cut-off files, short files, unreadable dirs export       manifest, chunks
#   ranges       extreme values                              messages     what the user typed
add_executable(bl_mkaudio ${CMAKE_SOURCE_DIR}/tests/hostile/mkaudio.c)
target_link_libraries(bl_mkaudio PRIVATE PkgConfig::SNDFILE m)
set(BL_HOSTILE_WORK ${CMAKE_CURRENT_BINARY_DIR}/hostile)
foreach(case devices names foreign_dir long_paths clip_fail memory fifo_loaders sizes nonfinite truncated
             export ranges messages)
  add_test(NAME hostile_${case}
           COMMAND sh ${CMAKE_SOURCE_DIR}/tests/hostile/hostile.sh $<TARGET_FILE:baleen> ${CMAKE_SOURCE_DIR}
                   ${BL_HOSTILE_WORK}/${case} $<TARGET_FILE:bl_mkaudio> ${case})
  set(env "${BL_TEST_ENV}")
  if(BL_SANITIZE)
    list(APPEND env "BL_TEST_SANITIZED=1") # the memory class measures RSS: meaningless under ASan
  endif()
  set_tests_properties(hostile_${case} PROPERTIES ENVIRONMENT "${env}" LABELS "cli;hostile" TIMEOUT 300
                       SKIP_RETURN_CODE 77)
endforeach()
