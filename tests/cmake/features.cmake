# features.cmake — CLI tests of `baleen features` (core/cmd_features.c): the golden front end
# through the whole command (decode, stream, transpose, .npy), stereo layout, and exit codes.
# The comparison tool is test_frontend's two-argument mode (same tolerance as the unit test).
set(BL_FEAT_GOLD ${CMAKE_SOURCE_DIR}/tests/golden/frontend)
set(BL_FEAT_OUT ${CMAKE_CURRENT_BINARY_DIR}/features_out)
file(MAKE_DIRECTORY ${BL_FEAT_OUT})

# Mono golden config through the CLI, 3 threads.
add_test(NAME features_cli_golden
         COMMAND sh -c "\"$1\" -q features \"$3/signal.wav\" --config \"$3/c03_pcen.yaml\" --threads 3 -o \"$4/c03.npy\" && \"$2\" \"$4/c03.npy\" \"$3/c03_pcen.npy\""
                 sh $<TARGET_FILE:baleen> $<TARGET_FILE:test_frontend> ${BL_FEAT_GOLD} ${BL_FEAT_OUT})
# Two channels: output [2, n_mels, frames], channel-major.
add_test(NAME features_cli_stereo
         COMMAND sh -c "\"$1\" -q features \"$3/stereo.wav\" --config \"$3/c01_log_default.yaml\" -o \"$4/stereo.npy\" && \"$2\" \"$4/stereo.npy\" \"$3/stereo_c01.npy\""
                 sh $<TARGET_FILE:baleen> $<TARGET_FILE:test_frontend> ${BL_FEAT_GOLD} ${BL_FEAT_OUT})
# --set overrides the file: c01's config with c03's compression settings gives c03's output.
add_test(NAME features_cli_set
         COMMAND sh -c "\"$1\" -q features \"$3/signal.wav\" --config \"$3/c01_log_default.yaml\" --set frontend.compression.type=pcen --set frontend.mel.fmin=20 --set frontend.mel.fmax=4000 -o \"$4/set.npy\" && \"$2\" \"$4/set.npy\" \"$3/c03_pcen.npy\""
                 sh $<TARGET_FILE:baleen> $<TARGET_FILE:test_frontend> ${BL_FEAT_GOLD} ${BL_FEAT_OUT})
add_test(NAME features_cli_help COMMAND $<TARGET_FILE:baleen> features --help)
set_tests_properties(features_cli_help PROPERTIES PASS_REGULAR_EXPRESSION "example:")
# Exit codes (DESIGN §8): 1 for usage and config errors, 3 for an undecodable input; no
# output file is left behind.
add_test(NAME features_cli_exit_codes
         COMMAND sh -c "
           \"$1\" features \"$2/signal.wav\"; test $? -eq 1 || exit 11
           \"$1\" features \"$2/signal.wav\" -o \"$3/x.npy\" --bogus; test $? -eq 1 || exit 12
           \"$1\" features \"$2/signal.wav\" -o \"$3/x.npy\" --set frontend.n_fft=1023; test $? -eq 1 || exit 13
           \"$1\" features \"$2/signal.wav\" -o \"$3/x.npy\" --config \"$3/missing.yaml\"; test $? -eq 1 || exit 14
           \"$1\" features \"$2/c01_log_default.yaml\" -o \"$3/x.npy\"; test $? -eq 3 || exit 15
           \"$1\" features \"$3/no_such.wav\" -o \"$3/x.npy\"; test $? -eq 3 || exit 16
           test ! -e \"$3/x.npy\" || exit 17
           ls \"$3\" | grep -q 'tmp\\|spill' && exit 18
           exit 0"
                 sh $<TARGET_FILE:baleen> ${BL_FEAT_GOLD} ${BL_FEAT_OUT}/codes)
file(MAKE_DIRECTORY ${BL_FEAT_OUT}/codes)
set_tests_properties(features_cli_golden features_cli_stereo features_cli_set features_cli_help
                     features_cli_exit_codes PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli)
# Longer than one spill chunk (8192 frames): hop 1 (20801 frames, 3 chunks) and hop 2 (10401
# frames, 2 chunks) must agree bit for bit on the frames they share, whatever the chunking.
add_test(NAME features_cli_chunks
         COMMAND sh -c "\"$1\" -q features \"$3/signal.wav\" --set frontend.n_fft=16 --set frontend.hop_length=1 --set frontend.mel.n_mels=4 -o \"$4/hop1.npy\" && \"$1\" -q features \"$3/signal.wav\" --set frontend.n_fft=16 --set frontend.hop_length=2 --set frontend.mel.n_mels=4 -o \"$4/hop2.npy\" && \"$2\" \"$4/hop2.npy\" \"$4/hop1.npy\" 2"
                 sh $<TARGET_FILE:baleen> $<TARGET_FILE:test_frontend> ${BL_FEAT_GOLD} ${BL_FEAT_OUT})
set_tests_properties(features_cli_chunks PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli)
