# synth.cmake — CLI tests of `baleen synth`: help, usage errors (exit 1, option named), I/O
# errors (exit 3, path named), and small runs that must leave both the audio and the truth.
# Each test is a short sh script; "$0" is the baleen binary. Included from tests/CMakeLists.txt.

function(bl_synth_cli_test name script)
  add_test(NAME ${name} COMMAND sh -c "${script}" $<TARGET_FILE:baleen>)
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "${BL_TEST_ENV}" LABELS cli)
endfunction()

bl_synth_cli_test(synth_cli_help
  "out=$(\"$0\" synth --help) && echo \"$out\" | grep -q 'usage: baleen synth' && echo \"$out\" | grep -q 'SNR' && echo \"$out\" | grep -q 'examples'")

# usage errors: exit 1 and the message names the option
bl_synth_cli_test(synth_cli_unknown_option
  "out=$(\"$0\" synth -o x.wav --bogus 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- --bogus")
bl_synth_cli_test(synth_cli_bad_rate
  "out=$(\"$0\" synth -o x.wav --rate 1000 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- --rate")
bl_synth_cli_test(synth_cli_bad_snr
  "out=$(\"$0\" synth -o x.wav --snr 20:5 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- --snr")
bl_synth_cli_test(synth_cli_missing_value
  "out=$(\"$0\" synth -o x.wav --seconds 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- --seconds")
bl_synth_cli_test(synth_cli_no_output
  "out=$(\"$0\" synth --seconds 10 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- -o")
bl_synth_cli_test(synth_cli_flac_float
  "out=$(\"$0\" synth -o x.flac --format flac --subtype float 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- --subtype")
bl_synth_cli_test(synth_cli_too_many_calls
  "out=$(\"$0\" synth -o x.wav --seconds 10 --calls 50 2>&1); rc=$?; echo \"$out\"; test $rc -eq 1 && echo \"$out\" | grep -q -- --calls")

# I/O error: exit 3 and the path named
bl_synth_cli_test(synth_cli_io_error
  "out=$(\"$0\" synth -o /nonexistent-baleen-dir/x.wav --seconds 5 2>&1); rc=$?; echo \"$out\"; test $rc -eq 3 && echo \"$out\" | grep -q /nonexistent-baleen-dir/x.wav")

# small runs: both files, the truth header and one row per call; same seed → same bytes
bl_synth_cli_test(synth_cli_run
  "d=$(mktemp -d) && \"$0\" synth -o $d/demo.wav --seconds 20 --calls 3 --seed 5 && test -s $d/demo.wav && head -1 $d/demo.truth.csv | grep -qx 'kind,channel,start_s,end_s,f0_hz,f1_hz,snr_db' && test $(wc -l < $d/demo.truth.csv) -eq 4 && \"$0\" synth -o $d/again.wav --seconds 20 --calls 3 --seed 5 && cmp $d/demo.wav $d/again.wav && cmp $d/demo.truth.csv $d/again.truth.csv && ! ls $d | grep -q tmp && rm -rf $d")
bl_synth_cli_test(synth_cli_run_flac
  "d=$(mktemp -d) && \"$0\" synth -o $d/st.flac --format=flac --subtype pcm16 --channels 2 --seconds 15 --calls 2 --kinds upcall --snr 10 --no-ships --no-clicks --truth $d/t.csv && test -s $d/st.flac && test $(grep -c '^upcall,' $d/t.csv) -eq 4 && test $(grep -c ',10.00$' $d/t.csv) -eq 4 && rm -rf $d")
